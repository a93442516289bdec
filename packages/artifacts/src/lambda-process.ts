import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export interface StartOptions {
  /** The function's folder (an isolated copy of its asset). */
  dir: string;
  /** `file.export`, as in the template. */
  handler: string;
  /** The function's whole environment: nothing of the parent's leaks in, as on Lambda. */
  environment: Record<string, string>;
  /** The Node.js binary; by default the one running this code. */
  execPath?: string;
  /** Arguments before the runner, e.g. an emulator: `[node]` with execPath `qemu-aarch64-static`. */
  execArgv?: string[];
  /** How long module init may take before the start counts as failed. Default 60 s. */
  initTimeoutMs?: number;
  functionName?: string;
  memorySize?: number;
  timeoutSeconds?: number;
  /** Where the child's stdout/stderr go; by default discarded. */
  onOutput?: (chunk: string) => void;
}

export interface StartedFunction {
  /** Time from the start of the handler module's import to its end (Lambda's "Init Duration" less the runtime's own start). */
  initMs: number;
  invoke<T = unknown>(event: unknown): Promise<T>;
  stop(): Promise<void>;
}

/** A handler's failure as Lambda reports it: error type and message, never the process dying. */
export class FunctionError extends Error {
  constructor(
    readonly errorType: string,
    message: string,
    readonly trace?: string,
  ) {
    super(`${errorType}: ${message}`);
  }
}

type FromRunner =
  | { type: 'ready'; initMs: number }
  | { type: 'init-error'; errorType: string; message: string; trace?: string }
  | { type: 'result'; id: number; result: unknown }
  | { type: 'error'; id: number; errorType: string; message: string; trace?: string };

const RUNNER = fileURLToPath(new URL('./runner.mjs', import.meta.url));

/**
 * Starts a function's bundle in a process of its own, the way the Lambda Node.js runtime does: the
 * handler module is imported from the task folder (its init timed), then invoked with an event and
 * a context, one invocation at a time.
 */
export async function startFunction(options: StartOptions): Promise<StartedFunction> {
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    TZ: ':UTC',
    LANG: 'en_US.UTF-8',
    LAMBDA_TASK_ROOT: options.dir,
    AWS_LAMBDA_FUNCTION_NAME: options.functionName ?? 'function',
    AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(options.memorySize ?? 128),
    AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
    MEDIA_RUNNER_HANDLER: options.handler,
    MEDIA_RUNNER_TIMEOUT_MS: String((options.timeoutSeconds ?? 3) * 1000),
    ...options.environment,
  };
  const child: ChildProcess = fork(RUNNER, [], {
    cwd: options.dir,
    env,
    execPath: options.execPath ?? process.execPath,
    execArgv: options.execArgv ?? [],
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    serialization: 'advanced',
  });
  let output = '';
  const collect = (chunk: Buffer) => {
    const text = chunk.toString();
    output = (output + text).slice(-20_000);
    options.onOutput?.(text);
  };
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);

  const pending = new Map<number, { resolve: (value: unknown) => void; reject: (error: Error) => void }>();
  let exited: Error | undefined;
  const ready = new Promise<number>((resolve, reject) => {
    const timer = setTimeout(
      () =>
        reject(
          new Error(`${env.AWS_LAMBDA_FUNCTION_NAME}: module init did not finish in ${options.initTimeoutMs ?? 60_000} ms\n${output}`),
        ),
      options.initTimeoutMs ?? 60_000,
    );
    child.on('message', (message: FromRunner) => {
      if (message.type === 'ready') {
        clearTimeout(timer);
        resolve(message.initMs);
      } else if (message.type === 'init-error') {
        clearTimeout(timer);
        reject(new FunctionError(message.errorType, `module init failed: ${message.message}`, message.trace));
      } else {
        const waiting = pending.get(message.id);
        pending.delete(message.id);
        if (message.type === 'result') waiting?.resolve(message.result);
        else waiting?.reject(new FunctionError(message.errorType, message.message, message.trace));
      }
    });
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      exited = new Error(`${env.AWS_LAMBDA_FUNCTION_NAME}: process exited (${signal ?? code})\n${output}`);
      reject(exited);
      for (const waiting of pending.values()) waiting.reject(exited);
      pending.clear();
    });
  });
  let initMs: number;
  try {
    initMs = await ready;
  } catch (error) {
    child.kill('SIGKILL');
    throw error;
  }

  let nextId = 0;
  return {
    initMs,
    invoke<T>(event: unknown): Promise<T> {
      if (exited) return Promise.reject(exited);
      const id = ++nextId;
      return new Promise<T>((resolve, reject) => {
        pending.set(id, { resolve: resolve as (value: unknown) => void, reject });
        child.send({ type: 'invoke', id, event });
      });
    },
    async stop() {
      if (exited) return;
      const gone = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 2_000);
      await gone;
      clearTimeout(timer);
    },
  };
}
