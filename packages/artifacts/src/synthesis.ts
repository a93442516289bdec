import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { synthesizedFunctions, type SynthesizedFunction } from './cloud-assembly';
import { isolatedCopy } from './isolated-copy';

export interface SynthesisOptions {
  /** The project: where cdk.json is. */
  repoRoot: string;
  /** Where cloud assemblies are kept between runs. Default: node_modules/.cache/media-artifacts. */
  cacheDir?: string;
  /** Extra `-c key=value` context. */
  context?: Record<string, string>;
  log?: (line: string) => void;
}

/** What a synth reads: the sources of every function and of the CDK app, the lock file, cdk.json. */
const SYNTH_INPUTS = ['functions', 'packages', 'infra', 'package-lock.json', 'cdk.json'];

/**
 * A fingerprint of everything a synth builds from, as it is in the working tree (uncommitted
 * changes included): the same fingerprint means the same bundles.
 */
export function sourceFingerprint(repoRoot: string, context: Record<string, string> = {}): string {
  const files = execFileSync('git', ['ls-files', '-co', '--exclude-standard', '--', ...SYNTH_INPUTS], { cwd: repoRoot, encoding: 'utf8' })
    .split('\n')
    // Tests, docs, the local stack and the browser client are not part of any bundle.
    .filter((file) => file && !/(^|\/)test\/|\.test\.ts$|\.md$|^packages\/(local|client)\//.test(file))
    .sort();
  const hash = createHash('sha256').update(JSON.stringify(context));
  for (const file of files) {
    const path = join(repoRoot, file);
    if (!existsSync(path) || !statSync(path).isFile()) continue;
    hash.update(file).update('\0').update(readFileSync(path)).update('\0');
  }
  return hash.digest('hex').slice(0, 20);
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Runs `work` while holding a lock folder, unless `done()` says another process already did it.
 * A lock older than 15 minutes belongs to a process that died.
 */
async function once<T>(lock: string, done: () => T | undefined, work: () => T): Promise<T> {
  for (;;) {
    const result = done();
    if (result !== undefined) return result;
    try {
      mkdirSync(lock);
      break;
    } catch {
      const age = Date.now() - (statSync(lock, { throwIfNoEntry: false })?.mtimeMs ?? Date.now());
      if (age > 15 * 60_000) rmSync(lock, { recursive: true, force: true });
      await sleep(500);
    }
  }
  try {
    return done() ?? work();
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}

/**
 * The cloud assembly `cdk synth` builds from the working tree (bundling every function for real,
 * as a deploy does), synthesized once per source fingerprint and kept: test files, the local
 * stack's parity mode and the cold-start bench share it. Concurrent callers wait for one synth.
 */
export async function synthesizedApp(options: SynthesisOptions): Promise<string> {
  const cacheDir = options.cacheDir ?? join(options.repoRoot, 'node_modules', '.cache', 'media-artifacts');
  const fingerprint = sourceFingerprint(options.repoRoot, options.context);
  const dir = join(cacheDir, fingerprint);
  mkdirSync(cacheDir, { recursive: true });
  return once(
    `${dir}.lock`,
    () => (existsSync(join(dir, 'manifest.json')) ? dir : undefined),
    () => {
      const building = `${dir}.building`;
      rmSync(building, { recursive: true, force: true });
      const context = Object.entries(options.context ?? {}).flatMap(([key, value]) => ['-c', `${key}=${value}`]);
      options.log?.('synthesizing the CDK app (bundling every function, as a deploy does)');
      const started = Date.now();
      execFileSync('npx', ['cdk', 'synth', '--quiet', '-o', building, ...context], {
        cwd: options.repoRoot,
        stdio: ['ignore', 'ignore', 'pipe'],
        maxBuffer: 64 * 1024 * 1024,
      });
      renameSync(building, dir);
      options.log?.(`synthesized in ${((Date.now() - started) / 1000).toFixed(1)} s`);
      pruneOldAssemblies(cacheDir, fingerprint);
      return dir;
    },
  );
}

/** Keeps the newest few assemblies: each holds every bundle, sharp included. */
function pruneOldAssemblies(cacheDir: string, keep: string): void {
  const assemblies = readdirSync(cacheDir)
    .filter((name) => /^[0-9a-f]{20}$/.test(name) && name !== keep)
    .map((name) => ({ name, mtime: statSync(join(cacheDir, name)).mtimeMs }))
    .sort((a, b) => b.mtime - a.mtime);
  for (const old of assemblies.slice(2)) {
    rmSync(join(cacheDir, old.name), { recursive: true, force: true });
    rmSync(join(cacheDir, `${old.name}.host`), { recursive: true, force: true });
  }
}

export interface PreparedFunction extends SynthesizedFunction {
  /** An isolated copy of the asset that runs on this machine. */
  dir: string;
}

/**
 * Every function of an assembly as an isolated folder that starts on this machine: the asset
 * alone, with native packages reinstalled for the host's CPU where the bundle was built for
 * Lambda's. Prepared once per assembly.
 */
export async function hostRunnableFunctions(assemblyDir: string): Promise<PreparedFunction[]> {
  const root = `${assemblyDir}.host`;
  const functions = synthesizedFunctions(assemblyDir);
  const prepared = () => functions.map((fn) => ({ ...fn, dir: join(root, fn.name) }));
  return once(
    `${root}.lock`,
    () => (existsSync(join(root, 'ready')) ? prepared() : undefined),
    () => {
      for (const fn of prepared()) isolatedCopy(fn, { dir: fn.dir, platform: 'host' });
      writeFileSync(join(root, 'ready'), '');
      return prepared();
    },
  );
}
