import { describe, expect, it } from 'vitest';
import { ProgressBar, describeProgress, type BulkProgress } from '@media/client/node';

const at = (filesDone: number, bytesSent: number, startedAt: number): BulkProgress => ({ filesTotal: 100, filesDone, bytesTotal: 1_000_000, bytesSent, startedAt });

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
