import { readFileSync } from 'node:fs';
import { BaseSequencer, type TestSpecification } from 'vitest/node';

/**
 * What a test file starts, by what its source names, heaviest first: the synthesized bundles (a
 * CDK synth, the arm64 emulator), a browser, a local stack or a database of its own.
 */
const SYNTH = 3;
const WEIGHTS: [RegExp, number][] = [
  [/synthesizedApp|arm64Emulator|artifacts: true/, SYNTH],
  [/chromium/, 2],
  [/startTestStack|startStackProcess|isolatedDatabase|scratchDatabase|seedMedia/, 1],
];

function weightOf(spec: TestSpecification): number {
  const source = readFileSync(spec.moduleId, 'utf8');
  return WEIGHTS.find(([pattern]) => pattern.test(source))?.[1] ?? 0;
}

/**
 * Long files first, so none of them starts last and runs alone while the other workers idle.
 * Vitest orders by the durations of the previous run when it has them for every file; a fresh
 * clone (CI) has none and would order by file size, which puts the short files that start the
 * emulator or a browser at the end. Then the files are ordered by what they start.
 */
export default class LongFilesFirst extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const known = files.every((spec) =>
      this.ctx.cache.getFileTestResults(`${spec.project.name}:${relativeTo(this.ctx.config.root, spec.moduleId)}`),
    );
    if (known) return super.sort(files);

    const sorted = await super.sort(files);
    const weights = new Map(sorted.map((spec) => [spec, weightOf(spec)]));
    // The files of the synthesized bundles share one synth: the first runs it, the others would
    // only wait for it, so they come after the browsers.
    const synthUsers = sorted.filter((spec) => weights.get(spec) === SYNTH);
    for (const spec of synthUsers.slice(1)) weights.set(spec, SYNTH - 1.5);
    // Array.prototype.sort is stable: within a weight, the base order (larger files first) stays.
    return sorted.sort((a, b) => weights.get(b)! - weights.get(a)!);
  }
}

const relativeTo = (root: string, path: string) => (path.startsWith(`${root}/`) ? path.slice(root.length + 1) : path);
