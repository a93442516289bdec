import { execFileSync } from 'node:child_process';
import { readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

/**
 * Builds the publishable package into dist/ (or the folder given): ESM for browsers (`.`, no
 * dependencies), ESM for Node (`./node`, Node's own modules only), the options of Uppy 6's S3
 * plugin (`./uppy`, which imports nothing of Uppy: only its types), the `media-upload` CLI, and
 * type declarations with the contract's types beside them. `npm publish dist/` ships it.
 */
const packageDir = fileURLToPath(new URL('../..', import.meta.url));
const out = resolve(process.argv[2] ?? join(packageDir, 'dist'));
const manifest = JSON.parse(await readFile(join(packageDir, 'package.json'), 'utf8'));

await rm(out, { recursive: true, force: true });
await build({
  absWorkingDir: packageDir,
  entryPoints: { index: 'src/index.ts', node: 'src/node/index.ts', uppy: 'src/uppy.ts' },
  outdir: out,
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'neutral',
  target: 'es2022',
  external: ['node:*'],
  logLevel: 'warning',
});
await build({
  absWorkingDir: packageDir,
  entryPoints: { 'bin/upload': 'src/bin/upload.ts' },
  outdir: out,
  bundle: true,
  format: 'esm',
  platform: 'node',
  target: 'node24',
  banner: { js: '#!/usr/bin/env node' },
  // zod comes along for the purpose check; minified, the CLI stays one small file.
  minify: true,
  logLevel: 'warning',
});

// TypeScript 7 exports only its package.json and version: its bin is found beside the former.
const tsc = join(dirname(createRequire(import.meta.url).resolve('typescript/package.json')), 'bin', 'tsc');
execFileSync(process.execPath, [tsc, '-p', join(packageDir, 'tsconfig.build.json'), '--outDir', join(out, 'types')], { stdio: 'inherit' });

// The declarations name core by its workspace name: point them at the copies shipped beside
// them, and give relative imports the `.js` that Node's ESM resolution (moduleResolution
// node16/nodenext) needs.
const typesRoot = join(out, 'types');
const coreTypes = join(typesRoot, 'packages/core/src');
for (const entry of await readdir(typesRoot, { recursive: true, withFileTypes: true })) {
  if (!entry.isFile() || !entry.name.endsWith('.d.ts')) continue;
  const file = join(entry.parentPath, entry.name);
  const text = await readFile(file, 'utf8');
  const rewritten = text
    .replace(/(from\s+|import\()(['"])(\.{1,2}\/[^'"]+?)(?<!\.js)\2/g, '$1$2$3.js$2')
    .replace(/(['"])@media\/core\/(contract|errors|rights)\1/g, (_m, quote: string, name: string) => {
      const target = relative(dirname(file), join(coreTypes, `${name}.js`));
      return `${quote}${target.startsWith('.') ? target : `./${target}`}${quote}`;
    });
  if (rewritten !== text) await writeFile(file, rewritten);
}

const types = (entry: string) => `./types/packages/client/src/${entry}.d.ts`;
await writeFile(
  join(out, 'package.json'),
  `${JSON.stringify(
    {
      name: manifest.name,
      version: manifest.version,
      description: manifest.description,
      type: 'module',
      sideEffects: false,
      exports: {
        '.': { types: types('index'), default: './index.js' },
        './node': { types: types('node/index'), default: './node.js' },
        './uppy': { types: types('uppy'), default: './uppy.js' },
      },
      bin: { 'media-upload': './bin/upload.js' },
      engines: { node: '>=24' },
      // The declarations infer the contract's types from its zod schemas; `./uppy`'s name Uppy 6's.
      peerDependencies: { zod: '^4', '@uppy/core': '^6', '@uppy/aws-s3': '^6' },
      peerDependenciesMeta: { zod: { optional: true }, '@uppy/core': { optional: true }, '@uppy/aws-s3': { optional: true } },
    },
    null,
    2,
  )}\n`,
);
console.log(`built ${manifest.name} into ${relative(process.cwd(), out) || '.'}`);
