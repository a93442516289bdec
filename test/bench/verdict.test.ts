import { describe, expect, it } from 'vitest';
import { verdictLines } from '../../bench/verdict';

describe("npm run bench's closing verdict", () => {
  it('says PASS or FAIL per target with the figure and the bound, then how many were missed', () => {
    expect(
      verdictLines([
        { what: '12 MP JPEG: engine / naive', figure: 0.82, bound: 0.85 },
        { what: '24 MP PNG: engine peak RSS', figure: 640, bound: 600, unit: 'MB' },
      ]),
    ).toEqual([
      'PASS  12 MP JPEG: engine / naive: 0.82 (target ≤ 0.85)',
      'FAIL  24 MP PNG: engine peak RSS: 640.00 MB (target ≤ 600 MB)',
      'verdict: 1 of 2 targets missed',
    ]);
  });

  it('says every target was met when none was missed', () => {
    expect(verdictLines([{ what: 'x', figure: 1.3, bound: 1.3 }]).at(-1)).toBe('verdict: all 1 targets met');
  });
});
