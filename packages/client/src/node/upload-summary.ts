import type { BulkUploadResult, FileOutcome } from './bulk-upload';
import { formatBytes, formatDuration } from './quantities';

const STATUSES: FileOutcome['status'][] = ['ready', 'skipped', 'rejected', 'failed'];
const LABELS: Record<FileOutcome['status'], string> = {
  ready: 'ready',
  skipped: 'skipped (already uploaded)',
  rejected: 'rejected',
  failed: 'failed',
};

/** The table printed at the end: counts and bytes per outcome, then every file that did not make it and why. */
export function uploadSummary(result: BulkUploadResult, purpose: string): string {
  const rows = STATUSES.map((status) => {
    const files = result.outcomes.filter((o) => o.status === status);
    return [LABELS[status], String(files.length), formatBytes(files.reduce((sum, o) => sum + o.size, 0))];
  });
  rows.push(['total', String(result.outcomes.length), formatBytes(result.outcomes.reduce((sum, o) => sum + o.size, 0))]);
  const header = ['outcome', 'files', 'bytes'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  const rule = widths.map((w) => '-'.repeat(w)).join('  ');

  const out = [
    `Upload summary: ${result.outcomes.length} files for ${purpose} in ${formatDuration(result.elapsedMs)}`,
    line(header),
    rule,
    ...rows.slice(0, -1).map(line),
    rule,
    line(rows.at(-1)!),
  ];
  for (const status of ['rejected', 'failed'] as const) {
    const bad = result.outcomes.filter((o) => o.status === status);
    if (bad.length === 0) continue;
    out.push('', `${status === 'rejected' ? 'Rejected' : 'Failed'} (${bad.length}):`);
    const nameWidth = Math.max(...bad.map((o) => o.file.length));
    const codeWidth = Math.max(...bad.map((o) => (o.code ?? '').length));
    for (const o of bad) out.push(`  ${o.file.padEnd(nameWidth)}  ${(o.code ?? '').padEnd(codeWidth)}  ${o.reason ?? ''}`);
  }
  if (result.ignored.length)
    out.push(
      '',
      `Ignored ${result.ignored.length} file(s) that are not photos or videos by name: ${result.ignored.slice(0, 5).join(', ')}${result.ignored.length > 5 ? ', …' : ''}`,
    );
  return `${out.join('\n')}\n`;
}
