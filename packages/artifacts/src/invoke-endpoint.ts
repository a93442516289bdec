import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { FunctionError, type StartedFunction } from './lambda-process';

export interface InvokeEndpoint {
  /** What a function that invokes others is given as its Lambda endpoint. */
  url: string;
  stop(): Promise<void>;
}

const INVOKE_PATH = /^\/2015-03-31\/functions\/([^/]+)\/invocations$/;

/**
 * Lambda's Invoke API (synchronous, `RequestResponse`) for started functions, by name: what the
 * AWS SDK of a function that invokes another talks to. A handler's failure comes back as Lambda
 * reports it, with `X-Amz-Function-Error` and the error as the payload.
 */
export async function startInvokeEndpoint(functions: Record<string, StartedFunction>): Promise<InvokeEndpoint> {
  const server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const name = decodeURIComponent(INVOKE_PATH.exec(req.url?.split('?')[0] ?? '')?.[1] ?? '');
    const target = req.method === 'POST' ? functions[name] : undefined;
    if (!target) {
      res.writeHead(404, { 'content-type': 'application/json', 'x-amzn-errortype': 'ResourceNotFoundException' });
      res.end(JSON.stringify({ Type: 'User', message: `Function not found: ${name}` }));
      return;
    }
    try {
      const body = Buffer.concat(chunks).toString('utf8');
      const result = await target.invoke(body ? JSON.parse(body) : {});
      res.writeHead(200, { 'content-type': 'application/json', 'x-amz-executed-version': '$LATEST' });
      res.end(JSON.stringify(result ?? null));
    } catch (error) {
      const e = error instanceof FunctionError ? error : new FunctionError('Error', String(error));
      res.writeHead(200, { 'content-type': 'application/json', 'x-amz-function-error': 'Unhandled' });
      res.end(JSON.stringify({ errorType: e.errorType, errorMessage: e.message }));
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
