import type { BulkProgress } from './bulk-upload';
import { formatBytes, formatDuration } from './quantities';

export interface ProgressOutput {
  write(text: string): unknown;
  isTTY?: boolean;
  columns?: number;
}

/** Files, bytes, rate and time left, in words. */
export function describeProgress(p: BulkProgress, now = Date.now()): string {
  const elapsed = Math.max(1, now - p.startedAt);
  const rate = (p.bytesSent / elapsed) * 1000;
  const bytesLeft = Math.max(0, p.bytesTotal - p.bytesSent);
  // Small files spend more time in processing than on the wire: take the slower of both estimates.
  const byBytes = rate > 0 ? (bytesLeft / rate) * 1000 : Infinity;
  // Skipped files took no time: only the files really sent say how long one takes.
  const sentDone = p.filesDone - (p.filesSkipped ?? 0);
  const byFiles = sentDone > 0 ? ((p.filesTotal - p.filesDone) * elapsed) / sentDone : Infinity;
  const estimates = [byBytes, byFiles].filter(Number.isFinite);
  const done = p.filesDone === p.filesTotal;
  const eta = done ? 'done' : estimates.length ? `ETA ${formatDuration(Math.max(...estimates))}` : 'ETA --';
  return `${p.filesDone}/${p.filesTotal} files · ${formatBytes(p.bytesSent)}/${formatBytes(p.bytesTotal)} · ${formatBytes(rate)}/s · ${eta}`;
}

/**
 * One overall progress bar. On a terminal it redraws a single line (at most 10 times a second);
 * elsewhere (CI logs, pipes) it prints a plain line at every tenth of the files.
 */
export class ProgressBar {
  private lastDraw = 0;
  private lastTenth = -1;

  constructor(private readonly out: ProgressOutput) {}

  update(progress: BulkProgress): void {
    const now = Date.now();
    if (this.out.isTTY) {
      if (now - this.lastDraw < 100 && progress.filesDone < progress.filesTotal) return;
      this.lastDraw = now;
      const text = describeProgress(progress, now);
      const width = Math.max(10, Math.min(30, (this.out.columns ?? 80) - text.length - 4));
      const fraction =
        progress.bytesTotal > 0
          ? Math.min(1, progress.bytesSent / progress.bytesTotal)
          : progress.filesDone / Math.max(1, progress.filesTotal);
      const filled = Math.round(fraction * width);
      this.out.write(`\r\x1b[2K[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${text}`);
      return;
    }
    const tenth = progress.filesTotal === 0 ? 10 : Math.floor((progress.filesDone * 10) / progress.filesTotal);
    if (tenth === this.lastTenth) return;
    this.lastTenth = tenth;
    this.out.write(`${describeProgress(progress, now)}\n`);
  }

  finish(): void {
    if (this.out.isTTY) this.out.write('\n');
  }
}
