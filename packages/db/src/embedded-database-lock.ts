import { existsSync, linkSync, mkdirSync, readFileSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';

/**
 * One process per embedded database. PGlite is PostgreSQL in one process with no shared memory:
 * two processes on one folder each believe they own it, and each overwrites what the other wrote.
 * Whoever opens a PGlite folder holds `<folder>.lock`, a file naming its pid, created atomically
 * (a hard link to a finished file: a reader never sees half of it). A lock whose process is gone
 * (killed, or from before a reboot) is taken over; a live holder refuses the second opener.
 */

export interface LockHolder {
  pid: number;
  /** What the holder runs (`npm start`, `npm run seed`), to name it in the refusal. */
  command?: string;
  /** The boot the holder ran in (Linux): a pid from an earlier boot is some other process now. */
  bootId?: string;
}

export class EmbeddedDatabaseInUseError extends Error {
  constructor(
    readonly dir: string,
    readonly holder: LockHolder,
  ) {
    super(
      `the embedded database ${dir} is in use by process ${holder.pid}${holder.command ? ` (${holder.command})` : ''}: ` +
        'stop it, or set MEDIA_DATA_DIR / DATABASE_URL to use another database',
    );
    this.name = 'EmbeddedDatabaseInUseError';
  }
}

export function isEmbeddedDatabaseInUse(error: unknown): error is EmbeddedDatabaseInUseError {
  return error instanceof EmbeddedDatabaseInUseError;
}

export interface EmbeddedDatabaseLock {
  /** The lock file. */
  readonly path: string;
  /** Gives the folder up (also done when the process exits normally). */
  release(): void;
}

/** Takes the folder's lock or throws EmbeddedDatabaseInUseError naming the live holder. */
export function lockEmbeddedDatabase(dir: string, options: { command?: string } = {}): EmbeddedDatabaseLock {
  const path = `${resolve(dir)}.lock`;
  mkdirSync(dirname(path), { recursive: true });
  const mine: LockHolder = { pid: process.pid, command: options.command ?? commandOfThisProcess(), bootId: bootId() };
  // A few rounds: each either takes the lock, meets a live holder, or clears a dead one and retries.
  for (let round = 0; round < 10; round++) {
    if (tryCreate(path, mine)) return held(path);
    const holder = readHolder(path);
    if (holder === 'gone') continue;
    if (holder !== 'unreadable' && isAlive(holder)) throw new EmbeddedDatabaseInUseError(dir, holder);
    clearStale(path, holder);
  }
  throw new Error(`could not lock the embedded database ${dir}: ${path} keeps changing hands`);
}

function tryCreate(path: string, holder: LockHolder): boolean {
  const draft = `${path}.${process.pid}.draft`;
  writeFileSync(draft, JSON.stringify(holder));
  try {
    linkSync(draft, path);
    return true;
  } catch (error) {
    if (codeOf(error) === 'EEXIST') return false;
    throw error;
  } finally {
    unlinkSync(draft);
  }
}

function readHolder(path: string): LockHolder | 'gone' | 'unreadable' {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    if (codeOf(error) === 'ENOENT') return 'gone';
    throw error;
  }
  try {
    const parsed: unknown = JSON.parse(text);
    if (typeof parsed === 'object' && parsed !== null && 'pid' in parsed && Number.isInteger(parsed.pid)) return parsed as LockHolder;
  } catch {
    // Not ours, or damaged: nobody can be named as its holder.
  }
  return 'unreadable';
}

function isAlive(holder: LockHolder): boolean {
  if (holder.bootId && bootId() && holder.bootId !== bootId()) return false;
  try {
    process.kill(holder.pid, 0);
    return true;
  } catch (error) {
    // EPERM: alive, someone else's.
    return codeOf(error) === 'EPERM';
  }
}

/**
 * Removes a dead holder's lock, under a short guard so two openers that both found it dead do not
 * remove each other's fresh lock. A guard older than 10 s was left by an opener that died here.
 */
function clearStale(path: string, seen: LockHolder | 'unreadable'): void {
  const guard = `${path}.takeover`;
  try {
    writeFileSync(guard, String(process.pid), { flag: 'wx' });
  } catch (error) {
    if (codeOf(error) !== 'EEXIST') throw error;
    if (existsSync(guard) && Date.now() - statSync(guard).mtimeMs > 10_000) unlinkSync(guard);
    return;
  }
  try {
    const now = readHolder(path);
    const same = now === seen || (typeof now === 'object' && typeof seen === 'object' && now.pid === seen.pid);
    if (same) unlinkSync(path);
  } finally {
    unlinkSync(guard);
  }
}

function held(path: string): EmbeddedDatabaseLock {
  let released = false;
  const release = () => {
    if (released) return;
    released = true;
    process.off('exit', release);
    const holder = readHolder(path);
    if (typeof holder === 'object' && holder.pid === process.pid) unlinkSync(path);
  };
  process.on('exit', release);
  return { path, release };
}

function commandOfThisProcess(): string | undefined {
  const script = process.env.npm_lifecycle_event;
  if (!script) return undefined;
  return script === 'start' || script === 'test' ? `npm ${script}` : `npm run ${script}`;
}

function bootId(): string | undefined {
  try {
    return readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
  } catch {
    return undefined;
  }
}

function codeOf(error: unknown): unknown {
  return typeof error === 'object' && error !== null && 'code' in error ? error.code : undefined;
}
