import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../../infra/lib/repo';

/**
 * The layering, lowest first: a workspace package may depend on packages of lower layers only.
 * core ← db / storage / imaging / faces ← service ← functions ← local / infra. `artifacts` (what a synth
 * built) and `client` (the browser client, which needs only the contract's types) stand apart.
 */
const LAYERS: Record<string, number> = {
  '@media/core': 0,
  '@media/artifacts': 0,
  '@media/db': 1,
  '@media/storage': 1,
  '@media/imaging': 1,
  '@media/faces': 1,
  '@media/client': 1,
  '@media/service': 2,
  '@media/functions': 3,
  '@media/local': 4,
  '@media/infra': 4,
};

/**
 * Dependencies a package builds rather than imports: the CDK app bundles functions/<name>/handler.ts
 * by path; face-api's Node build requires '@tensorflow/tfjs', which @media/faces provides (tfjs-lean).
 */
const BUILT_NOT_IMPORTED: Record<string, string[]> = { '@media/infra': ['@media/functions'], '@media/faces': ['@tensorflow/tfjs'] };

interface Workspace {
  name: string;
  dir: string;
  manifest: { dependencies?: Record<string, string>; devDependencies?: Record<string, string>; exports?: Record<string, unknown> };
}

const workspaces: Workspace[] = (JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')).workspaces as string[])
  .flatMap((pattern) =>
    pattern.endsWith('/*')
      ? readdirSync(join(REPO_ROOT, pattern.slice(0, -2))).map((name) => join(REPO_ROOT, pattern.slice(0, -2), name))
      : [join(REPO_ROOT, pattern)],
  )
  .filter((dir) => existsSync(join(dir, 'package.json')))
  .map((dir) => {
    const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
    return { name: manifest.name as string, dir, manifest };
  });

const byName = new Map(workspaces.map((w) => [w.name, w]));

/** A workspace's own source files: not its tests (those may reach the shared test support). */
function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (name === 'node_modules' || name === 'test' || name === 'dist' || name === 'cdk.out') return [];
    if (statSync(path).isDirectory()) return sourceFiles(path);
    return /\.(ts|mts|mjs)$/.test(name) && !/\.(test|d)\.ts$/.test(name) ? [path] : [];
  });
}

const IMPORT = /(?:^|[\s;])(?:import|export)\s[^'"]*?from\s+['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)|^import\s+['"]([^'"]+)['"]/gm;

function importsOf(file: string): string[] {
  const text = readFileSync(file, 'utf8').replace(/\/\*[\s\S]*?\*\/|^\s*\/\/.*$/gm, '');
  return [...text.matchAll(IMPORT)].map((m) => (m[1] ?? m[2] ?? m[3])!);
}

const packageOf = (specifier: string) =>
  specifier.startsWith('@') ? specifier.split('/').slice(0, 2).join('/') : specifier.split('/')[0]!;
const isBuiltin = (specifier: string) => specifier.startsWith('node:') || builtinModules.includes(packageOf(specifier));
const declared = (w: Workspace) => ({ ...w.manifest.dependencies, ...w.manifest.devDependencies });

/** The file a specifier names, for relative paths and workspace packages (through their exports). */
function resolveImport(from: string, specifier: string): string | undefined {
  let base: string | undefined;
  if (specifier.startsWith('.')) base = resolve(dirname(from), specifier);
  else {
    const target = byName.get(packageOf(specifier));
    if (!target) return undefined;
    const subpath = `.${specifier.slice(target.name.length)}`;
    const entry = target.manifest.exports?.[subpath];
    const file = typeof entry === 'string' ? entry : (entry as { default?: string } | undefined)?.default;
    if (!file) throw new Error(`${target.name} does not export ${subpath} (imported by ${relative(REPO_ROOT, from)})`);
    base = join(target.dir, file);
  }
  for (const candidate of [base, `${base}.ts`, `${base}.mjs`, join(base, 'index.ts')]) {
    if (existsSync(candidate) && statSync(candidate).isFile()) return candidate;
  }
  throw new Error(`${relative(REPO_ROOT, from)} imports ${specifier}, which names no file`);
}

/** Every file an entry point loads, and every third-party package among them. */
function closure(entry: string): { files: Set<string>; packages: Set<string> } {
  const files = new Set<string>();
  const packages = new Set<string>();
  const visit = (file: string) => {
    if (files.has(file)) return;
    files.add(file);
    for (const specifier of importsOf(file)) {
      if (isBuiltin(specifier)) continue;
      const next = resolveImport(file, specifier);
      if (next) visit(next);
      else packages.add(packageOf(specifier));
    }
  };
  visit(entry);
  return { files, packages };
}

describe('package boundaries', () => {
  it('knows every workspace package and its layer', () => {
    expect(workspaces.map((w) => w.name).sort()).toEqual(Object.keys(LAYERS).sort());
  });

  it.each(workspaces.map((w) => [w.name, w] as const))(
    '%s imports only what it declares, and nothing outside its folder by path',
    (_name, w) => {
      const problems: string[] = [];
      for (const file of sourceFiles(w.dir)) {
        for (const specifier of importsOf(file)) {
          const where = relative(REPO_ROOT, file);
          if (specifier.startsWith('.')) {
            const target = resolve(dirname(file), specifier);
            if (relative(w.dir, target).startsWith('..')) problems.push(`${where} reaches outside ${w.name} by path: ${specifier}`);
          } else if (!isBuiltin(specifier)) {
            const pkg = packageOf(specifier);
            const needed = pkg === 'aws-lambda' ? '@types/aws-lambda' : pkg;
            if (!(needed in declared(w))) problems.push(`${where} imports ${pkg}, which ${w.name} does not declare`);
          }
        }
      }
      expect(problems).toEqual([]);
    },
  );

  it.each(workspaces.map((w) => [w.name, w] as const))('%s declares no dependency it does not use', (_name, w) => {
    const used = new Set(
      sourceFiles(w.dir).flatMap((file) =>
        importsOf(file)
          .filter((s) => !s.startsWith('.') && !isBuiltin(s))
          .map(packageOf),
      ),
    );
    const unused = Object.keys(w.manifest.dependencies ?? {}).filter((dep) => !used.has(dep) && !BUILT_NOT_IMPORTED[w.name]?.includes(dep));
    expect(unused, `${w.name} declares these but never imports them`).toEqual([]);
  });

  it.each(workspaces.map((w) => [w.name, w] as const))('%s depends only on packages of lower layers', (_name, w) => {
    const upward = Object.keys(w.manifest.dependencies ?? {})
      .filter((dep) => dep in LAYERS)
      .filter((dep) => LAYERS[dep]! >= LAYERS[w.name]!);
    expect(upward, `${w.name} (layer ${LAYERS[w.name]}) may not depend on these`).toEqual([]);
  });

  it.each(['request-upload', 'get-download', 'media-api', 'migrate'])('the %s function never loads the image pipeline or sharp', (name) => {
    const { files, packages } = closure(join(REPO_ROOT, 'functions', name, 'handler.ts'));
    const imaging = [...files].filter((file) => file.startsWith(join(REPO_ROOT, 'packages', 'imaging')));
    expect(imaging.map((file) => relative(REPO_ROOT, file))).toEqual([]);
    expect([...packages]).not.toContain('sharp');
  });

  it('bundled code imports zod as a namespace, so esbuild can drop what is unused (its locales alone are 370 KB)', () => {
    const bundled = workspaces.filter((w) => LAYERS[w.name]! <= LAYERS['@media/functions']!).flatMap((w) => sourceFiles(w.dir));
    const whole = bundled.filter((file) => /import\s*\{[^}]*\bz\b[^}]*\}\s*from\s*'zod'/.test(readFileSync(file, 'utf8')));
    expect(whole.map((file) => relative(REPO_ROOT, file))).toEqual([]);
  });

  it.each(['upload-processor', 'video-processor', 'sweeper', 'rights-service', 'subject-export'])(
    'the background job %s reaches items through their lifecycle, never through the API’s modules',
    (name) => {
      const api = ['media-service.ts', 'downloads.ts'].map((file) => join(REPO_ROOT, 'packages', 'service', 'src', file));
      const { files } = closure(join(REPO_ROOT, 'packages', 'service', 'src', `${name}.ts`));
      expect(api.filter((file) => files.has(file)).map((file) => relative(REPO_ROOT, file))).toEqual([]);
    },
  );

  it('the processor does load it: the check above can see an import of sharp', () => {
    expect([...closure(join(REPO_ROOT, 'functions', 'process-upload', 'handler.ts')).packages]).toContain('sharp');
  });

  it.each(['request-upload', 'get-download', 'media-api', 'migrate', 'process-upload', 'sweeper'])(
    'the %s function never loads face-api (only detect-faces carries the model)',
    (name) => {
      expect([...closure(join(REPO_ROOT, 'functions', name, 'handler.ts')).packages]).not.toContain('@vladmandic/face-api');
    },
  );

  it('the detect-faces function does load it: the check above can see an import of face-api', () => {
    expect([...closure(join(REPO_ROOT, 'functions', 'detect-faces', 'handler.ts')).packages]).toContain('@vladmandic/face-api');
  });
});
