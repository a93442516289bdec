import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  chmodSync,
  copyFileSync,
  existsSync,
  lstatSync,
  mkdtempSync,
  mkdirSync,
  readFileSync,
  readlinkSync,
  realpathSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { LambdaArchitecture } from './native-modules';

/** One Debian package of the tools' closure, as the archive publishes it. */
export interface LockedPackage {
  name: string;
  version: string;
  /** Where the archive keeps it (the pool). */
  url: string;
  sha256: string;
  size: number;
}

/** A file the function ships: where it is in its package, and its name in the tools' folder. */
export interface LockedFile {
  package: string;
  path: string;
  as: string;
}

/**
 * ffmpeg and ffprobe for one Lambda architecture, pinned: every `.deb` they load a file from, by
 * hash, and the files taken from them (the two programs, Debian's loader, the shared libraries
 * their ELF headers need). Written by `npm run video-tools:lock`, read at synth time.
 */
export interface VideoToolsLock {
  distribution: string;
  architecture: string;
  /** The ffmpeg package's version, e.g. 5.1.9-0+deb12u1. */
  version: string;
  /** When that version was released: the date of its Debian changelog entry (ISO 8601). */
  releasedAt: string;
  lockedAt: string;
  /** The dynamic loader, relative to the tools' folder. */
  loader: string;
  packages: LockedPackage[];
  files: LockedFile[];
}

/** Debian's name for a Lambda architecture. */
export const debianArchitecture = (architecture: LambdaArchitecture): 'arm64' | 'amd64' => (architecture === 'arm64' ? 'arm64' : 'amd64');

/** Where downloaded packages are kept between builds: the user's cache, never the repository. */
export function videoToolsCacheDir(): string {
  const base = process.env.XDG_CACHE_HOME || join(homedir(), '.cache');
  return join(base, 'media-service', 'debian-packages');
}

const sha256Of = (file: string): string => createHash('sha256').update(readFileSync(file)).digest('hex');

/**
 * The package's `.deb` in the cache, downloaded once. Its hash is checked on every use, so a
 * tampered or truncated cache is refused, never shipped.
 */
export async function cachedPackage(pkg: LockedPackage, cacheDir = videoToolsCacheDir()): Promise<string> {
  const file = join(cacheDir, `${pkg.name}_${pkg.version.replaceAll(':', '%3a')}_${pkg.sha256.slice(0, 16)}.deb`);
  if (!existsSync(file)) {
    mkdirSync(cacheDir, { recursive: true });
    const response = await fetch(pkg.url);
    if (!response.ok) throw new Error(`${pkg.url}: HTTP ${response.status}`);
    const bytes = Buffer.from(await response.arrayBuffer());
    const partial = `${file}.${process.pid}.partial`;
    writeFileSync(partial, bytes);
    renameSync(partial, file);
  }
  const actual = sha256Of(file);
  if (actual !== pkg.sha256) {
    rmSync(file, { force: true });
    throw new Error(`${pkg.name} ${pkg.version}: sha256 ${actual} is not the locked ${pkg.sha256}; the download was removed`);
  }
  return file;
}

/** The package unpacked (`dpkg-deb -x`, no maintainer scripts run) into the cache, once. */
export async function unpackedPackage(pkg: LockedPackage, cacheDir = videoToolsCacheDir()): Promise<string> {
  const deb = await cachedPackage(pkg, cacheDir);
  const root = join(cacheDir, 'unpacked', pkg.sha256);
  if (!existsSync(join(root, '.complete'))) {
    // A folder of this process's own, renamed into place whole: other checkouts' synths unpack
    // the same package at once, and one's clean-up must not pull the folder from under another.
    const unpacking = `${root}.unpacking-${process.pid}-${Date.now()}`;
    mkdirSync(unpacking, { recursive: true });
    try {
      execFileSync('dpkg-deb', ['-x', deb, unpacking]);
      writeFileSync(join(unpacking, '.complete'), '');
      try {
        renameSync(unpacking, root);
      } catch {
        // Another process's whole copy got there first; an incomplete one (an interrupted older unpack) is replaced.
        if (!existsSync(join(root, '.complete'))) {
          rmSync(root, { recursive: true, force: true });
          renameSync(unpacking, root);
        }
      }
    } finally {
      rmSync(unpacking, { recursive: true, force: true });
    }
  }
  return root;
}

/**
 * A file of an unpacked package, symbolic links followed. Debian's links are relative or absolute
 * (to the system's root); both are resolved inside the package's own tree.
 */
export function packageFile(root: string, path: string): string {
  let current = join(root, path);
  for (let hops = 0; hops < 16; hops++) {
    if (!lstatSync(current).isSymbolicLink()) return current;
    const target = readlinkSync(current);
    current = target.startsWith('/') ? join(root, target) : join(dirname(current), target);
  }
  throw new Error(`${path}: too many symbolic links`);
}

/** The shell script that runs one tool with Debian's loader and the shipped libraries only. */
export function toolLauncher(lock: VideoToolsLock, tool: 'ffmpeg' | 'ffprobe'): string {
  return [
    '#!/bin/sh',
    `# ${tool} ${lock.version} (Debian ${lock.distribution}, ${lock.architecture}), run by Debian's own loader:`,
    "# the host's glibc may be older, and no library outside this folder is ever loaded.",
    // biome-ignore lint/suspicious/noTemplateCurlyInString: the shell's own expansion (the launcher's folder)
    'd="${0%/*}"',
    `exec "$d/${lock.loader}" --inhibit-cache --library-path "$d/lib" "$d/bin/${tool}" "$@"`,
    '',
  ].join('\n');
}

/**
 * Builds the tools' folder from the lock: `ffmpeg` and `ffprobe` (launchers), `bin/` (the
 * programs), `lib/` (the loader and the libraries). Only locked packages, only locked files.
 */
export async function assembleVideoTools(lock: VideoToolsLock, outDir: string, cacheDir = videoToolsCacheDir()): Promise<void> {
  const roots = new Map<string, string>();
  for (const pkg of lock.packages) roots.set(pkg.name, await unpackedPackage(pkg, cacheDir));
  rmSync(outDir, { recursive: true, force: true });
  mkdirSync(outDir, { recursive: true });
  for (const file of lock.files) {
    const root = roots.get(file.package);
    if (!root) throw new Error(`${file.path}: its package ${file.package} is not in the lock`);
    const source = packageFile(root, file.path);
    if (relative(realpathSync(root), realpathSync(source)).startsWith('..')) throw new Error(`${file.path} leaves its package`);
    const target = join(outDir, file.as);
    mkdirSync(dirname(target), { recursive: true });
    copyFileSync(source, target);
    chmodSync(target, file.as.startsWith('bin/') || file.as === lock.loader ? 0o755 : 0o644);
  }
  for (const tool of ['ffmpeg', 'ffprobe'] as const) {
    writeFileSync(join(outDir, tool), toolLauncher(lock, tool));
    chmodSync(join(outDir, tool), 0o755);
  }
}

/**
 * The tools' folder as the function ships it: one gzipped ustar archive (unpacked the tools pass
 * 200 MB, and Lambda counts the unpacked package against 250 MB), unpacked into /tmp by the
 * function on first use (`@media/imaging`'s `shippedVideoTools`). Names sorted, owners and times
 * zeroed: the same lock gives the same bytes, so the asset's hash changes only with the lock.
 *
 * Being a function of the lock and of this module, the archive is kept in the cache beside the
 * packages (with its sha256, checked on every use) and copied from there by later builds: a
 * gzip of 200 MB is most of a synth's time otherwise.
 */
export async function videoToolsArchive(lock: VideoToolsLock, outFile: string, cacheDir = videoToolsCacheDir()): Promise<void> {
  const key = createHash('sha256')
    .update(JSON.stringify(lock))
    .update('\0')
    .update(readFileSync(fileURLToPath(import.meta.url)))
    .digest('hex');
  const kept = join(cacheDir, 'archives', `${lock.architecture}-${key.slice(0, 24)}.tar.gz`);
  mkdirSync(dirname(outFile), { recursive: true });
  if (existsSync(kept) && existsSync(`${kept}.sha256`) && sha256Of(kept) === readFileSync(`${kept}.sha256`, 'utf8')) {
    copyFileSync(kept, outFile);
    return;
  }
  const work = mkdtempSync(join(tmpdir(), 'video-tools-'));
  try {
    await assembleVideoTools(lock, join(work, 'tools'), cacheDir);
    execFileSync('sh', [
      '-c',
      'tar --format=ustar --sort=name --owner=0 --group=0 --numeric-owner --mtime=@0 -C "$1" -cf - . | gzip -6n > "$2"',
      'archive',
      join(work, 'tools'),
      outFile,
    ]);
    mkdirSync(dirname(kept), { recursive: true });
    const partial = `${kept}.${process.pid}.partial`;
    copyFileSync(outFile, partial);
    writeFileSync(`${kept}.sha256`, sha256Of(partial));
    renameSync(partial, kept);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/** The lock of an architecture, from the folder that keeps the locks. */
export function readVideoToolsLock(lockDir: string, architecture: LambdaArchitecture): VideoToolsLock {
  return JSON.parse(readFileSync(join(lockDir, `${debianArchitecture(architecture)}.lock.json`), 'utf8')) as VideoToolsLock;
}
