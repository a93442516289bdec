import { createHash } from 'node:crypto';
import { constants, existsSync, readdirSync, readFileSync } from 'node:fs';
import { copyFile, chmod, mkdir, open, readdir, readFile, rename, rm, rmdir, stat, utimes, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { homedir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isEmbeddedDatabaseInUse, lockEmbeddedDatabase } from './embedded-database-lock';
import { migrateToLatest } from './migrator';

/**
 * A new embedded database starts as a copy of a migrated one (docs/architecture.md § The embedded
 * database): PGlite's initdb and our migrations from nothing take 15–30 s of CPU on a busy machine,
 * a copy a second or two. The template is made once per key, in the user's cache:
 *
 *   <templates>/<key>/pgdata     the database, closed cleanly (no recovery when a copy opens)
 *   <templates>/<key>/complete   its manifest, written last: a template without it is never used
 *
 * It is built in `<key>.building` under `<key>.lock` (one builder; the others wait for it), flushed,
 * and renamed into place. Anything that goes wrong here leaves the caller to create the database
 * as before.
 */

/** Where templates are kept unless the caller says otherwise: the user's cache, never the repository. */
export function embeddedTemplatesDir(env: Record<string, string | undefined> = process.env): string {
  return join(env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'media-service', 'pglite-templates');
}

const THIS_MODULE = 'embedded-database-template.ts';

/**
 * What a template's content follows from: PGlite's version (its initdb), Kysely's (its migration
 * tables), the migration list and every migration file byte for byte, and this module (how it is
 * made), read from this package's sources. Any change gives another key, so another template.
 */
export function embeddedTemplateKey(sources: string = fileURLToPath(new URL('.', import.meta.url))): string {
  const hash = createHash('sha256');
  for (const name of ['@electric-sql/pglite', 'kysely']) hash.update(`${name}@${packageVersion(name)}\0`);
  const migrations = readdirSync(join(sources, 'migrations'))
    .filter((name) => name.endsWith('.ts'))
    .sort();
  for (const file of ['migrator.ts', THIS_MODULE, ...migrations.map((name) => join('migrations', name))]) {
    hash
      .update(`${file}\0`)
      .update(readFileSync(join(sources, file)))
      .update('\0');
  }
  return hash.digest('hex').slice(0, 24);
}

export interface EmbeddedTemplates {
  /** The folder that keeps the templates. */
  dir: string;
  /** The template to use; by default the one of these sources (`embeddedTemplateKey()`). */
  key?: string;
  /** How long to wait for another process making the same template before giving up on it. */
  waitMs?: number;
}

export type TemplateOutcome = 'copied' | 'not new' | 'unavailable';

/**
 * Makes the database folder `dir`, if it does not exist yet (or is empty), a copy of the migrated
 * template, making the template first when there is none. The caller holds `dir`'s lock.
 * 'unavailable' (and `dir` as it was) when anything about the template failed: no writable cache,
 * a damaged template, a builder that takes too long. Never throws.
 */
export async function startFromTemplate(dir: string, templates: EmbeddedTemplates): Promise<TemplateOutcome> {
  try {
    if (existsSync(dir) && (await readdir(dir)).length > 0) return 'not new';
    const template = await migratedTemplate(templates);
    await copyTemplate(template, dir);
    return 'copied';
  } catch {
    return 'unavailable';
  }
}

interface Manifest {
  key: string;
  /** Folders, relative to pgdata, parents first, with their modes (PostgreSQL checks its folder's). */
  dirs: { path: string; mode: number }[];
  /** Files, relative to pgdata, with their sizes: a copy is checked against them. */
  files: { path: string; size: number }[];
}

interface Template {
  pgdata: string;
  manifest: Manifest;
}

const COMPLETE = 'complete';
const WAIT_STEP_MS = 250;

async function migratedTemplate({ dir: templates, key = embeddedTemplateKey(), waitMs = 180_000 }: EmbeddedTemplates): Promise<Template> {
  const home = join(templates, key);
  const ready = await completeTemplate(home, key);
  if (ready) return ready;
  await mkdir(templates, { recursive: true });
  const deadline = Date.now() + waitMs;
  for (;;) {
    let lock: ReturnType<typeof lockEmbeddedDatabase>;
    try {
      lock = lockEmbeddedDatabase(home, { command: 'making the embedded database template' });
    } catch (error) {
      // Another process is making it: its result is ours too.
      if (!isEmbeddedDatabaseInUse(error) || Date.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, WAIT_STEP_MS));
      const made = await completeTemplate(home, key);
      if (made) return made;
      continue;
    }
    try {
      return (await completeTemplate(home, key)) ?? (await buildTemplate(templates, key));
    } finally {
      lock.release();
    }
  }
}

/** The template under `home` if its manifest is there (it is written last), else undefined. */
async function completeTemplate(home: string, key: string): Promise<Template | undefined> {
  let manifest: Manifest;
  try {
    manifest = JSON.parse(await readFile(join(home, COMPLETE), 'utf8')) as Manifest;
  } catch {
    return undefined;
  }
  // Not ours (damaged, or made by hand): the builder sets it aside and makes the right one.
  if (manifest.key !== key) return undefined;
  // Its last use, for the pruning of templates nobody uses any more.
  const now = new Date();
  await utimes(join(home, COMPLETE), now, now).catch(() => undefined);
  return { pgdata: join(home, 'pgdata'), manifest };
}

/** Makes the template of `key`; the caller holds its lock, so nobody else writes beside it. */
async function buildTemplate(templates: string, key: string): Promise<Template> {
  const home = join(templates, key);
  const building = `${home}.building`;
  // Left by a builder that died, or a template without its manifest: set aside before removal, so
  // a reader still copying from it fails instead of copying half of it.
  await discard(building);
  await discard(home);
  const pgdata = join(building, 'pgdata');
  await mkdir(building, { recursive: true });

  // Opened as `npm start` opens a database from nothing, so a copy is what the user would have had
  // without it (PGlite's plain setup differs: it creates its folders with other modes). Its lock
  // file sits beside pgdata, outside the manifest, and goes with `destroy()`.
  const { createDatabase } = await import('./connection');
  const db = await createDatabase({ pgliteDir: pgdata, pgliteTemplates: false });
  try {
    await migrateToLatest(db);
  } finally {
    await db.destroy();
  }

  const manifest: Manifest = { key, ...(await listTree(pgdata)) };
  await flushTree(pgdata, manifest);
  const complete = join(building, COMPLETE);
  await writeFile(complete, JSON.stringify(manifest));
  await flush(complete);
  await flush(building);
  await rename(building, home);
  await flush(templates);
  await pruneUnused(templates, key);
  return { pgdata: join(home, 'pgdata'), manifest };
}

/**
 * Copies the template's files, those of its manifest and no others, into `<dir>.from-template`,
 * flushes them, and renames that into place: `dir` is a whole copy or not there.
 */
async function copyTemplate({ pgdata, manifest }: Template, dir: string): Promise<void> {
  const staging = `${dir}.from-template`;
  await rm(staging, { recursive: true, force: true });
  try {
    // Parents first, the database's own folder ('') among them.
    for (const folder of manifest.dirs) {
      await mkdir(join(staging, folder.path), { recursive: true });
      await chmod(join(staging, folder.path), folder.mode);
    }
    await settled(
      manifest.files.map(async (file) => {
        const target = join(staging, file.path);
        // A clone where the filesystem can (btrfs, XFS), a copy elsewhere.
        await copyFile(join(pgdata, file.path), target, constants.COPYFILE_FICLONE);
        const { size } = await stat(target);
        if (size !== file.size) throw new Error(`${file.path}: ${size} bytes, the template's manifest says ${file.size}`);
      }),
    );
    // The copy is on the disk before the database in it acknowledges anything: the WAL's flushes
    // from here on cover only what PostgreSQL writes, not these files.
    await flushTree(staging, manifest);
    if (existsSync(dir)) await rmdir(dir);
    await rename(staging, dir);
    await flush(dirname(dir));
  } catch (error) {
    await rm(staging, { recursive: true, force: true });
    throw error;
  }
}

async function listTree(root: string): Promise<Omit<Manifest, 'key'>> {
  const dirs: Manifest['dirs'] = [{ path: '', mode: (await stat(root)).mode & 0o777 }];
  const files: Manifest['files'] = [];
  const walk = async (folder: string) => {
    for (const entry of await readdir(folder, { withFileTypes: true })) {
      const path = join(folder, entry.name);
      const info = await stat(path);
      if (entry.isDirectory()) {
        dirs.push({ path: relative(root, path), mode: info.mode & 0o777 });
        await walk(path);
      } else if (entry.isFile()) files.push({ path: relative(root, path), size: info.size });
      else throw new Error(`${path}: neither a file nor a folder`);
    }
  };
  await walk(root);
  return { dirs, files };
}

/** fsync of every file, then of every folder (their entries), all at once: the disk sorts them. */
async function flushTree(root: string, { dirs, files }: Omit<Manifest, 'key'>): Promise<void> {
  await settled(files.map((file) => flush(join(root, file.path))));
  await settled(dirs.map((folder) => flush(join(root, folder.path))));
}

/** All of them finished (none still writing into a folder about to be removed), or the first failure. */
async function settled(work: Promise<unknown>[]): Promise<void> {
  const failed = (await Promise.allSettled(work)).find((result) => result.status === 'rejected');
  if (failed) throw failed.reason;
}

async function flush(path: string): Promise<void> {
  const handle = await open(path, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

async function discard(path: string): Promise<void> {
  if (!existsSync(path)) return;
  const aside = `${path}.discarded-${process.pid}`;
  await rename(path, aside);
  await rm(aside, { recursive: true, force: true });
}

/** Templates of other keys unused for this long are removed when a new one is made. */
const UNUSED_MS = 30 * 24 * 3600_000;

async function pruneUnused(templates: string, keep: string): Promise<void> {
  for (const name of await readdir(templates)) {
    if (name === keep || name.includes('.')) continue;
    const used = await stat(join(templates, name, COMPLETE)).catch(() => undefined);
    if (used && Date.now() - used.mtimeMs > UNUSED_MS) await discard(join(templates, name)).catch(() => undefined);
  }
}

function packageVersion(name: string): string {
  // The entry point's folder, up to the package's own package.json (not all packages export it).
  let folder = dirname(createRequire(import.meta.url).resolve(name));
  for (;;) {
    const file = join(folder, 'package.json');
    if (existsSync(file)) {
      const manifest = JSON.parse(readFileSync(file, 'utf8')) as { name?: string; version?: string };
      if (manifest.name === name && manifest.version) return manifest.version;
    }
    if (dirname(folder) === folder) throw new Error(`${name}: no package.json above its entry point`);
    folder = dirname(folder);
  }
}
