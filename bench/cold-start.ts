/**
 * `npm run bench -- --cold` (or `npm run bench:cold`): what a cold start costs each function that
 * `cdk synth` ships. Per function: the bundle's size at init (index.mjs and the chunks it imports
 * statically, without source maps; the chunks only `import()` reaches are not loaded at init) and
 * the module-init time (the handler module's import, in a fresh process, from an isolated copy of
 * the asset), the median of several rounds, next to baselines built and measured in the same run:
 * an empty ESM handler, and a bundle holding only the AWS SDK S3 client, once as one file (as
 * NodejsFunction builds it: the reference of the targets) and once split as the functions are
 * (infra/lib/media-function.ts). Rounds interleave the targets, so load on a shared machine falls
 * on all of them alike. For the API functions also the first request after init (without a token,
 * so it builds the dependencies and answers 401; media-api: GET /health), and media-api's first
 * GET /openapi.json, whose document is a chunk of its own.
 *
 * Targets: every API bundle ≤ 1.5× the one-file S3-client baseline in size and init; the
 * processor's init without sharp's native load (measured alone in the same folder, subtracted)
 * ≤ 2× that baseline.
 */
import { mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { build } from 'esbuild';
import { hostRunnableFunctions, runtimeEnvironment, startFunction, synthesizedApp, type PreparedFunction } from '@media/artifacts';
import { functionBuildOptions } from '../infra/lib/media-function';
import { REPO_ROOT } from '../infra/lib/repo';
import { httpApiEvent } from '../test/support/http-api-event';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 7);
const API = ['request-upload', 'get-download', 'media-api'];

interface Target {
  label: string;
  dir: string;
  handler: string;
  environment: Record<string, string>;
  kind: 'baseline' | 'api' | 'processing' | 'other' | 'probe';
}

const work = join(tmpdir(), `media-bench-cold-${process.pid}`);
mkdirSync(work, { recursive: true });

/**
 * A baseline bundle, built as the functions are: split, or as one file as NodejsFunction builds it
 * (ESM, minified, Node 24, the CommonJS shim, a map beside it that init does not read).
 */
async function baseline(label: string, source: string, split = false): Promise<Target> {
  const dir = join(work, label.replace(/\W+/g, '-'));
  mkdirSync(dir, { recursive: true });
  const entry = join(REPO_ROOT, 'bench', `.cold-${label.replace(/\W+/g, '-')}.mjs`);
  writeFileSync(entry, source);
  try {
    // The functions' own options; one file is those options without the splitting.
    await build({ ...functionBuildOptions(entry, dir, []), splitting: split, logLevel: 'error' });
  } finally {
    rmSync(entry, { force: true });
  }
  return { label, dir, handler: 'index.handler', environment: { AWS_REGION: 'eu-west-1' }, kind: 'baseline' };
}

const S3_ONLY =
  "import { S3Client, HeadObjectCommand } from '@aws-sdk/client-s3';\nconst s3 = new S3Client({});\nexport const handler = async (e) => s3.send(new HeadObjectCommand({ Bucket: e.bucket, Key: e.key }));\n";

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};

const assembly = await synthesizedApp({ repoRoot: REPO_ROOT, log: (line) => console.error(line) });
const functions: PreparedFunction[] = await hostRunnableFunctions(assembly);
const env = (fn: PreparedFunction) =>
  runtimeEnvironment(
    fn,
    {
      MEDIA_BUCKET: 'bench',
      DATABASE_URL: 'postgres://media_app@127.0.0.1:5432/media',
      MEDIA_EVENTS_TOPIC_ARN: 'arn:aws:sns:eu-west-1:123456789012:media-events',
      MEDIA_JWT_JWKS_URL: 'https://id.example/jwks',
      MEDIA_JWT_ISSUER: 'https://id.example/',
      MEDIA_JWT_AUDIENCE: 'media',
    },
    { AWS_REGION: 'eu-west-1', POWERTOOLS_METRICS_DISABLED: 'true' },
  );

const targets: Target[] = [
  await baseline('empty ESM handler', 'export const handler = async () => ({ statusCode: 200 });\n'),
  await baseline('S3 client only', S3_ONLY),
  await baseline('S3 client only, split', S3_ONLY, true),
  ...functions.map(
    (fn): Target => ({
      label: fn.name,
      dir: fn.dir,
      handler: fn.handler,
      environment: env(fn),
      kind: API.includes(fn.name) ? 'api' : fn.name === 'process-upload' || fn.name === 'sweeper' ? 'processing' : 'other',
    }),
  ),
];
// sharp's own load in the processor's folder: the native part of the processor's init.
const processor = functions.find((fn) => fn.name === 'process-upload')!;
writeFileSync(join(processor.dir, 'sharp-probe.mjs'), "import sharp from 'sharp';\nexport const handler = async () => sharp.versions;\n");
targets.push({
  label: "sharp alone (processor's folder)",
  dir: processor.dir,
  handler: 'sharp-probe.handler',
  environment: { AWS_REGION: 'eu-west-1' },
  kind: 'probe',
});

/** The first request of an API function: without a token it builds the dependencies and answers 401. */
const FIRST_REQUEST: Record<string, APIGatewayProxyEventV2> = {
  'request-upload': httpApiEvent('POST', '/v1/uploads', { body: {} }),
  'get-download': httpApiEvent('GET', '/v1/media/0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b/download'),
  'media-api': httpApiEvent('GET', '/health'),
};
const OPENAPI = 'media-api: first GET /openapi.json';

const inits = new Map<string, number[]>(targets.map((t) => [t.label, []]));
const firsts = new Map<string, number[]>([...Object.keys(FIRST_REQUEST), OPENAPI].map((name) => [name, []]));
const timed = async (invoke: () => Promise<unknown>) => {
  const started = performance.now();
  await invoke();
  return performance.now() - started;
};
console.error(`measuring module init: ${ROUNDS} rounds × ${targets.length} targets, each in a fresh process`);
for (let round = 0; round < ROUNDS; round++) {
  for (const target of targets) {
    const started = await startFunction({
      dir: target.dir,
      handler: target.handler,
      environment: target.environment,
      functionName: target.label,
    });
    inits.get(target.label)!.push(started.initMs);
    const first = FIRST_REQUEST[target.label];
    if (first) {
      firsts.get(target.label)!.push(await timed(() => started.invoke(first)));
      if (target.label === 'media-api') firsts.get(OPENAPI)!.push(await timed(() => started.invoke(httpApiEvent('GET', '/openapi.json'))));
    }
    await started.stop();
  }
}
rmSync(join(processor.dir, 'sharp-probe.mjs'), { force: true });

/** index.mjs and every chunk it imports statically, transitively: what init reads and compiles. */
function initBytes(dir: string): number {
  const seen = new Set<string>();
  const visit = (file: string) => {
    if (seen.has(file)) return;
    seen.add(file);
    // Static imports only: `import{…}from"./chunks/…"` and `import"./…"`, never `import("…")`.
    for (const [, path] of readFileSync(file, 'utf8').matchAll(/(?:\bfrom|\bimport)\s*["'](\.\.?\/[^"']+\.mjs)["']/g)) {
      visit(join(dirname(file), path!));
    }
  };
  visit(join(dir, 'index.mjs'));
  return [...seen].reduce((sum, file) => sum + statSync(file).size, 0);
}

const size = (t: Target) => (t.kind === 'probe' ? 0 : initBytes(t.dir));
const s3 = targets[1]!;
const s3Size = size(s3);
const s3Init = median(inits.get(s3.label)!);
const s3SplitInit = median(inits.get(targets[2]!.label)!);
const sharpInit = median(inits.get(targets.at(-1)!.label)!);

const rows = targets.map((t) => {
  const init = median(inits.get(t.label)!);
  const bytes = size(t);
  let target = '';
  if (t.kind === 'api') {
    target = `init ≤ 1.5×: ${init / s3Init <= 1.5 ? 'met' : 'NOT met'}, size ≤ 1.5×: ${bytes / s3Size <= 1.5 ? 'met' : 'NOT met'}`;
  } else if (t.label === 'process-upload') {
    target = `init − sharp ≤ 2×: ${(init - sharpInit) / s3Init <= 2 ? 'met' : 'NOT met'}`;
  }
  const first = firsts.get(t.label);
  return {
    function: t.label,
    'init KB': t.kind === 'probe' ? '' : (bytes / 1024).toFixed(0),
    '× S3 size': t.kind === 'probe' ? '' : (bytes / s3Size).toFixed(2),
    'init ms (median)': init.toFixed(1),
    '× S3 init': (init / s3Init).toFixed(2),
    '× S3 split init': (init / s3SplitInit).toFixed(2),
    'init − sharp ms':
      t.label === 'process-upload' || t.label === 'sweeper'
        ? `${(init - sharpInit).toFixed(1)} (${((init - sharpInit) / s3Init).toFixed(2)}×)`
        : '',
    'first request ms': first ? median(first).toFixed(1) : '',
    target,
  };
});
rows.push({
  function: OPENAPI,
  'init KB': '',
  '× S3 size': '',
  'init ms (median)': '',
  '× S3 init': '',
  '× S3 split init': '',
  'init − sharp ms': '',
  'first request ms': median(firsts.get(OPENAPI)!).toFixed(1),
  target: '',
});
console.log(
  `\ncold start of the synthesized functions (module init from an isolated asset copy, median of ${ROUNDS}; Node ${process.versions.node}, ${process.arch})`,
);
console.table(rows);
rmSync(work, { recursive: true, force: true });
