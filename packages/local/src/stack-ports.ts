import { createServer } from 'node:net';

/** One port `npm start` listens on, and the variable that chooses it. */
export interface StackPort {
  port: number;
  /** What listens there: API, S3, SQS. */
  what: string;
  variable: string;
  /** Not set by its own variable: PORT + offset. */
  offset?: number;
}

/** The API on PORT (3000), S3 and SQS on PORT+1 and PORT+2 unless their own variables say. */
export function stackPorts(env: Record<string, string | undefined>): { api: StackPort; s3: StackPort; sqs: StackPort } {
  const port = Number(env.PORT ?? 3000);
  const derived = (variable: string, what: string, offset: number): StackPort =>
    env[variable] === undefined ? { port: port + offset, what, variable, offset } : { port: Number(env[variable]), what, variable };
  return {
    api: { port, what: 'API', variable: 'PORT', offset: 0 },
    s3: derived('MEDIA_S3_PORT', 'S3', 1),
    sqs: derived('MEDIA_SQS_PORT', 'SQS', 2),
  };
}

/**
 * Checked before anything starts (the embedded database takes seconds to open): undefined when
 * every port is free, else one sentence naming the first busy one and what to set instead.
 * Port 0 (any free port) is never busy.
 */
export async function busyPortSentence(host: string, ports: StackPort[]): Promise<string | undefined> {
  for (const candidate of ports) {
    if (candidate.port === 0) continue;
    const problem = await listenProblem(host, candidate.port);
    if (!problem) continue;
    const name = `port ${candidate.port} (${candidate.what}, ${candidate.variable})`;
    const state = problem === 'EADDRINUSE' ? 'is in use' : `cannot be used (${problem})`;
    return `${name} ${state}: try ${await suggestion(host, ports, candidate)}`;
  }
  return undefined;
}

/** PORT moved by hundreds until every port it governs is free, or a free port for a variable set on its own. */
async function suggestion(host: string, ports: StackPort[], busy: StackPort): Promise<string> {
  const governed = ports.filter((p) => p.offset !== undefined);
  const apiPort = governed.find((p) => p.offset === 0)?.port ?? 3000;
  if (busy.offset !== undefined) {
    for (let base = apiPort + 1500; base < 65_000; base += 100) {
      const free = await Promise.all(governed.map(async (p) => !(await listenProblem(host, base + p.offset!))));
      if (free.every(Boolean)) return `PORT=${base}`;
    }
  }
  for (let port = busy.port + 100; port < 65_000; port += 100) {
    if (!(await listenProblem(host, port))) return `${busy.variable}=${port}`;
  }
  return `${busy.variable}=0 (any free port)`;
}

/** Undefined when a server could listen on the port now, else the error's code. */
async function listenProblem(host: string, port: number): Promise<string | undefined> {
  const server = createServer();
  return new Promise((resolve) => {
    server.once('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? error.message));
    server.listen({ host, port, exclusive: true }, () => server.close(() => resolve(undefined)));
  });
}
