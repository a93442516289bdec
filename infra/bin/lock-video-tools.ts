/**
 * Pins ffmpeg and ffprobe for Lambda (docs/large-media.md § ffmpeg and ffprobe): resolves Debian
 * bookworm's `ffmpeg` package and its dependencies from the signed arm64 (or amd64) indexes of the
 * release, its security archive and its updates (the newest version of each), downloads them,
 * follows the two programs' ELF headers to the libraries they really load, and writes
 * `infra/video-tools/<arch>.lock.json` naming exactly those packages (URL, version, sha256, size)
 * and files.
 *
 *   npm run video-tools:lock            # both architectures
 *   npm run video-tools:lock -- arm64
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, lstatSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import {
  debianArchitecture,
  type LambdaArchitecture,
  type LockedFile,
  type LockedPackage,
  packageFile,
  unpackedPackage,
  type VideoToolsLock,
} from '@media/artifacts';
import { REPO_ROOT } from '../lib/repo';

const DISTRIBUTION = 'bookworm';
/** The release, its security archive and its updates: of several versions of a package, the newest is taken. */
const SUITES = [
  { mirror: 'http://deb.debian.org/debian-security', suite: `${DISTRIBUTION}-security` },
  { mirror: 'http://deb.debian.org/debian', suite: DISTRIBUTION },
  { mirror: 'http://deb.debian.org/debian', suite: `${DISTRIBUTION}-updates` },
];
const KEYRING = '/usr/share/keyrings/debian-archive-keyring.gpg';
const TOOLS = ['usr/bin/ffmpeg', 'usr/bin/ffprobe'];

interface IndexEntry extends LockedPackage {
  depends: string[][];
}

async function download(url: string): Promise<Buffer> {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`${url}: HTTP ${response.status}`);
  return Buffer.from(await response.arrayBuffer());
}

const sha256 = (bytes: Buffer): string => createHash('sha256').update(bytes).digest('hex');

/** The suite's Packages index, its Release file's signature checked with Debian's keyring. */
async function packagesIndex(mirror: string, suite: string, arch: string): Promise<string> {
  const work = mkdtempSync(join(tmpdir(), 'video-tools-lock-'));
  try {
    const inRelease = join(work, 'InRelease');
    writeFileSync(inRelease, await download(`${mirror}/dists/${suite}/InRelease`));
    const release = execFileSync('gpgv', ['--keyring', KEYRING, '--output', '-', inRelease], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    const name = `main/binary-${arch}/Packages.xz`;
    const sums = release.slice(release.indexOf('\nSHA256:'));
    const line = sums.split('\n').find((l) => l.trim().endsWith(` ${name}`));
    if (!line) throw new Error(`${suite}: the Release file lists no ${name}`);
    const expected = line.trim().split(/\s+/)[0];
    const xz = await download(`${mirror}/dists/${suite}/${name}`);
    if (sha256(xz) !== expected) throw new Error(`${suite} ${name}: hash is not the signed one`);
    return execFileSync('xz', ['-dc'], { input: xz, maxBuffer: 1 << 30 }).toString('utf8');
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/** Debian's own ordering of versions (epochs, tildes and all). */
function newer(version: string, than: string): boolean {
  if (version === than) return false;
  try {
    execFileSync('dpkg', ['--compare-versions', version, 'gt', than]);
    return true;
  } catch {
    return false;
  }
}

/** `a (>= 1), b | c:any` → [['a'], ['b', 'c']]: versions and architecture qualifiers set aside. */
const parseDepends = (field: string | undefined): string[][] =>
  (field ?? '')
    .split(',')
    .map((group) =>
      group
        .split('|')
        .map((alt) => alt.trim().split(/[\s(:]/)[0] ?? '')
        .filter(Boolean),
    )
    .filter((group) => group.length > 0);

function parseIndex(text: string, mirror: string, into: Map<string, IndexEntry>, provides: Map<string, string[]>): void {
  for (const paragraph of text.split('\n\n')) {
    const fields = new Map<string, string>();
    let key = '';
    for (const line of paragraph.split('\n')) {
      if (line.startsWith(' ') && key) fields.set(key, `${fields.get(key)}\n${line}`);
      else if (line.includes(':')) {
        key = line.slice(0, line.indexOf(':'));
        fields.set(key, line.slice(key.length + 1).trim());
      }
    }
    const name = fields.get('Package');
    const version = fields.get('Version') ?? '';
    const known = name ? into.get(name) : undefined;
    if (!name || (known && !newer(version, known.version))) continue;
    into.set(name, {
      name,
      version,
      url: `${mirror}/${fields.get('Filename')}`,
      sha256: fields.get('SHA256') ?? '',
      size: Number(fields.get('Size')),
      depends: [...parseDepends(fields.get('Pre-Depends')), ...parseDepends(fields.get('Depends'))],
    });
    for (const [virtual] of parseDepends(fields.get('Provides'))) {
      if (virtual) provides.set(virtual, [...(provides.get(virtual) ?? []), name]);
    }
  }
}

/** Every package `ffmpeg` depends on, transitively (the first alternative that exists). */
function dependencyClosure(index: Map<string, IndexEntry>, provides: Map<string, string[]>): IndexEntry[] {
  const chosen = new Map<string, IndexEntry>();
  const pending = ['ffmpeg'];
  while (pending.length > 0) {
    const name = pending.pop()!;
    if (chosen.has(name)) continue;
    const entry = index.get(name);
    if (!entry) throw new Error(`${name} is in no index`);
    chosen.set(name, entry);
    for (const group of entry.depends) {
      const satisfied = group.find((alt) => chosen.has(alt) || (provides.get(alt) ?? []).some((p) => chosen.has(p)));
      if (satisfied) continue;
      const real = group.find((alt) => index.has(alt)) ?? group.flatMap((alt) => provides.get(alt) ?? [])[0];
      if (!real) throw new Error(`${name}: nothing provides ${group.join(' | ')}`);
      pending.push(real);
    }
  }
  return [...chosen.values()];
}

/** Each shared object's file name → where it is (package and path), in the unpacked closure. */
function sharedObjects(roots: Map<string, string>): Map<string, { package: string; path: string }> {
  const found = new Map<string, { package: string; path: string }>();
  const walk = (pkg: string, root: string, dir: string) => {
    let entries: import('node:fs').Dirent[];
    try {
      entries = readdirSync(join(root, dir), { withFileTypes: true });
    } catch {
      return;
    }
    for (const entry of entries) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(pkg, root, path);
      else if (/\.so(\.|$)/.test(entry.name) && !found.has(entry.name)) found.set(entry.name, { package: pkg, path });
    }
  };
  for (const [pkg, root] of roots) {
    walk(pkg, root, 'lib');
    walk(pkg, root, 'usr/lib');
  }
  return found;
}

const elfNeeded = (file: string): string[] =>
  [...execFileSync('readelf', ['-dW', file], { encoding: 'utf8' }).matchAll(/\(NEEDED\)\s+Shared library: \[([^\]]+)\]/g)].map(
    (m) => m[1]!,
  );

const elfInterpreter = (file: string): string => {
  const match = /Requesting program interpreter: ([^\]]+)\]/.exec(execFileSync('readelf', ['-lW', file], { encoding: 'utf8' }));
  if (!match) throw new Error(`${file} names no program interpreter`);
  return match[1]!;
};

/** The date of the newest entry of a package's Debian changelog. */
function changelogDate(root: string, pkg: string): string {
  const text = gunzipSync(readFileSync(join(root, 'usr/share/doc', pkg, 'changelog.Debian.gz'))).toString('utf8');
  const trailer = /^ -- .+>\s{2}(.+)$/m.exec(text);
  if (!trailer) throw new Error(`${pkg}: no dated entry in its changelog`);
  return new Date(trailer[1]!).toISOString();
}

async function lock(architecture: LambdaArchitecture): Promise<VideoToolsLock> {
  const arch = debianArchitecture(architecture);
  const index = new Map<string, IndexEntry>();
  const provides = new Map<string, string[]>();
  for (const { mirror, suite } of SUITES) parseIndex(await packagesIndex(mirror, suite, arch), mirror, index, provides);
  const closure = dependencyClosure(index, provides);
  const roots = new Map<string, string>();
  for (const pkg of closure) roots.set(pkg.name, await unpackedPackage(pkg));
  const objects = sharedObjects(roots);
  const ffmpegRoot = roots.get('ffmpeg')!;

  const files = new Map<string, LockedFile>();
  const pending: { file: string; entry: LockedFile }[] = TOOLS.map((path) => ({
    file: join(ffmpegRoot, path),
    entry: { package: 'ffmpeg', path, as: `bin/${basename(path)}` },
  }));
  const loaderName = basename(elfInterpreter(pending[0]!.file));
  pending.push({ file: '', entry: { ...objects.get(loaderName)!, as: `lib/${loaderName}` } });
  while (pending.length > 0) {
    const { file, entry } = pending.pop()!;
    if (files.has(entry.as)) continue;
    files.set(entry.as, entry);
    const real = file || packageFile(roots.get(entry.package)!, entry.path);
    for (const soname of elfNeeded(real)) {
      const object = objects.get(soname);
      if (!object) throw new Error(`${entry.path} needs ${soname}, which no package of the closure has`);
      pending.push({ file: '', entry: { ...object, as: `lib/${soname}` } });
    }
  }
  // Each shipped package's copyright file (its licence), also where its doc folder is a link to
  // another package's (libstdc++6 → gcc-12-base): GPL and LGPL ask that the licences go along.
  for (const pkg of new Set([...files.values()].map((f) => f.package))) {
    const docs = lstatSync(join(roots.get(pkg)!, 'usr/share/doc', pkg), { throwIfNoEntry: false });
    const owner = docs?.isSymbolicLink() ? basename(readlinkSync(join(roots.get(pkg)!, 'usr/share/doc', pkg))) : pkg;
    const holder = [...roots].find(([, root]) => existsSync(join(root, 'usr/share/doc', owner, 'copyright')))?.[0];
    if (!holder) throw new Error(`${pkg}: no copyright file in the closure`);
    files.set(`licenses/${owner}`, { package: holder, path: `usr/share/doc/${owner}/copyright`, as: `licenses/${owner}` });
  }
  const used = new Set([...files.values()].map((f) => f.package));
  return {
    distribution: DISTRIBUTION,
    architecture: arch,
    version: index.get('ffmpeg')!.version,
    releasedAt: changelogDate(ffmpegRoot, 'ffmpeg'),
    lockedAt: new Date().toISOString(),
    loader: `lib/${loaderName}`,
    packages: closure
      .filter((p) => used.has(p.name))
      .map(({ name, version, url, sha256, size }) => ({ name, version, url, sha256, size }))
      .sort((a, b) => a.name.localeCompare(b.name)),
    files: [...files.values()].sort((a, b) => a.as.localeCompare(b.as)),
  };
}

const wanted = (process.argv.slice(2) as LambdaArchitecture[]).filter(Boolean);
for (const architecture of wanted.length > 0 ? wanted : (['arm64', 'x86_64'] as const)) {
  const started = Date.now();
  const result = await lock(architecture);
  const file = join(REPO_ROOT, 'infra', 'video-tools', `${result.architecture}.lock.json`);
  writeFileSync(file, `${JSON.stringify(result, null, 2)}\n`);
  const bytes = result.packages.reduce((sum, p) => sum + p.size, 0);
  console.log(
    `${file}: ffmpeg ${result.version} (${result.releasedAt.slice(0, 10)}), ${result.packages.length} packages (${(bytes / 1e6).toFixed(1)} MB), ${result.files.length} files, ${((Date.now() - started) / 1000).toFixed(0)} s`,
  );
}
