import { describe, expect, it } from 'vitest';
import { ProgressBar, describeProgress, type BulkProgress } from '@media/client/node';

const at = (filesDone: number, bytesSent: number, startedAt: number): BulkProgress => ({
  filesTotal: 100,
  filesDone,
  bytesTotal: 1_000_000,
  bytesSent,
  startedAt,
});

function output(isTTY: boolean) {
  const written: string[] = [];
  return { written, out: { isTTY, columns: 120, write: (text: string) => written.push(text) } };
}

describe('the bulk upload progress bar', () => {
  it('says files, bytes, rate and time left', () => {
    const start = Date.now() - 10_000;
    expect(describeProgress(at(50, 500_000, start), start + 10_000)).toBe('50/100 files · 488 KB/977 KB · 49 KB/s · ETA 10s');
    expect(describeProgress(at(100, 1_000_000, start), start + 10_000)).toMatch(/^100\/100 files · .* · done$/);
  });

  it('estimates the time left from the files really sent, not from those skipped as already uploaded', () => {
    const start = Date.now() - 2_000;
    // 90 skipped at once; of the 10 sent, 5 are done in 2 s and the other 5 are being processed.
    const rerun: BulkProgress = {
      filesTotal: 100,
      filesDone: 95,
      filesSkipped: 90,
      bytesTotal: 10_000,
      bytesSent: 10_000,
      startedAt: start,
    };
    expect(describeProgress(rerun, start + 2_000)).toMatch(/ · ETA 2s$/);
    const allSkipped: BulkProgress = { filesTotal: 100, filesDone: 100, filesSkipped: 100, bytesTotal: 0, bytesSent: 0, startedAt: start };
    expect(describeProgress(allSkipped, start + 2_000)).toMatch(/ · done$/);
  });

  it('redraws one line on a terminal', () => {
    const { written, out } = output(true);
    const bar = new ProgressBar(out);
    bar.update(at(100, 1_000_000, Date.now() - 1000));
    bar.finish();
    expect(written[0]).toMatch(/^\r\x1b\[2K\[#+\] 100\/100 files/);
    expect(written[1]).toBe('\n');
  });

  it('prints a plain line per tenth of the files elsewhere', () => {
    const { written, out } = output(false);
    const bar = new ProgressBar(out);
    const start = Date.now();
    for (let done = 0; done <= 100; done++) bar.update(at(done, done * 10_000, start));
    expect(written).toHaveLength(11);
    expect(written.every((line) => line.endsWith('\n') && !line.includes('\r'))).toBe(true);
  });
});
