/** One target of a benchmark: what was measured, the figure, and the bound it must meet. */
export interface TargetResult {
  what: string;
  figure: number;
  /** `max`: the figure must be at most `bound`. */
  bound: number;
  unit?: string;
}

/**
 * The closing verdict of `npm run bench`: one line per target, PASS or FAIL with the figure and
 * the bound, then one line overall, so a run answers "did it meet its targets" without reading on.
 */
export function verdictLines(results: readonly TargetResult[]): string[] {
  const unit = (r: TargetResult) => (r.unit ? ` ${r.unit}` : '');
  const lines = results.map(
    (r) => `${r.figure <= r.bound ? 'PASS' : 'FAIL'}  ${r.what}: ${r.figure.toFixed(2)}${unit(r)} (target ≤ ${r.bound}${unit(r)})`,
  );
  const failed = results.filter((r) => r.figure > r.bound).length;
  lines.push(failed === 0 ? `verdict: all ${results.length} targets met` : `verdict: ${failed} of ${results.length} targets missed`);
  return lines;
}
