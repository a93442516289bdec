// The Lambda Node.js runtime in miniature: runs in the function's folder, with its environment.
// Plain JavaScript, because it runs beside a bundle, where no TypeScript loader exists.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

const [file, exportName] = splitHandler(process.env.MEDIA_RUNNER_HANDLER ?? 'index.handler');
const timeoutMs = Number(process.env.MEDIA_RUNNER_TIMEOUT_MS ?? 3000);

function splitHandler(handler) {
  const dot = handler.lastIndexOf('.');
  return [handler.slice(0, dot), handler.slice(dot + 1)];
}

function moduleFile(root, name) {
  for (const ext of ['.mjs', '.js', '.cjs']) {
    const candidate = join(root, name + ext);
    if (existsSync(candidate)) return candidate;
  }
  throw Object.assign(new Error(`Cannot find module '${name}' in ${root}`), { name: 'Runtime.ImportModuleError' });
}

const describe = (error) => ({
  errorType: error?.name ?? typeof error,
  message: error?.message ?? String(error),
  trace: error?.stack,
});

let handler;
try {
  const started = performance.now();
  const mod = await import(pathToFileURL(moduleFile(process.cwd(), file)).href);
  const initMs = performance.now() - started;
  handler = mod[exportName];
  if (typeof handler !== 'function') {
    throw Object.assign(new Error(`${file}.${exportName} is not a function`), { name: 'Runtime.HandlerNotFound' });
  }
  process.send({ type: 'ready', initMs });
} catch (error) {
  process.send({ type: 'init-error', ...describe(error) }, () => process.exit(1));
}

// One invocation at a time, as one Lambda execution environment does.
let queue = Promise.resolve();
process.on('message', (message) => {
  if (message?.type !== 'invoke') return;
  queue = queue.then(async () => {
    const deadline = Date.now() + timeoutMs;
    const context = {
      awsRequestId: `local-${message.id}`,
      functionName: process.env.AWS_LAMBDA_FUNCTION_NAME,
      functionVersion: '$LATEST',
      invokedFunctionArn: `arn:aws:lambda:${process.env.AWS_REGION ?? 'us-east-1'}:000000000000:function:${process.env.AWS_LAMBDA_FUNCTION_NAME}`,
      memoryLimitInMB: process.env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE,
      logGroupName: `/aws/lambda/${process.env.AWS_LAMBDA_FUNCTION_NAME}`,
      logStreamName: 'local',
      callbackWaitsForEmptyEventLoop: false,
      getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    };
    try {
      const result = await handler(message.event, context);
      process.send({ type: 'result', id: message.id, result });
    } catch (error) {
      process.send({ type: 'error', id: message.id, ...describe(error) });
    }
  });
});
process.on('SIGTERM', () => process.exit(0));
