import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';

/** A port nobody listens on right now. */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/**
 * A start takes seconds; this ceiling is for a stuck one, far above a slow machine's start, and
 * below the hooks that start a stack process (test/docs gives its hook 110 s).
 */
const CHILD_START_CEILING_MS = 100_000;

/**
 * `npm start` as its own process (one node process, no wrapper, so a signal reaches the stack
 * itself), resolved once it prints that it is up. `output` keeps what it wrote, for failures.
 */
export async function startStackProcess(
  env: Record<string, string | undefined>,
  options: { ownProcessGroup?: boolean; startBudgetMs?: number } = {},
): Promise<{ child: ChildProcess; output: () => string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'packages/local/src/bin/start.ts'], {
    env: env as NodeJS.ProcessEnv,
    stdio: ['ignore', 'pipe', 'pipe'],
    // Its own process group, so the whole stack (and anything it started) can be killed at once.
    detached: options.ownProcessGroup ?? false,
  });
  let output = '';
  child.stdout!.on('data', (d) => (output += d));
  child.stderr!.on('data', (d) => (output += d));
  await new Promise<void>((resolve, reject) => {
    const ceiling = options.startBudgetMs ?? CHILD_START_CEILING_MS;
    const timer = setTimeout(() => reject(new Error(`the stack did not start in ${ceiling / 1000} s:\n${output}`)), ceiling);
    child.stdout!.on('data', () => {
      if (output.includes('is up')) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`the stack exited (${code ?? signal}) while starting:\n${output}`));
    });
  });
  return { child, output: () => output };
}

/** Stops a child with `signal` and waits until it is gone. */
export async function stopProcess(child: ChildProcess, signal: NodeJS.Signals): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill(signal);
  await exited;
}

/** SIGKILL to the child's whole process group (started with `ownProcessGroup`); waits until it is gone. */
export async function killProcessGroup(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  process.kill(-child.pid!, 'SIGKILL');
  await exited;
}
