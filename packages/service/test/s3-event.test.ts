import { describe, expect, it } from 'vitest';
import { decodeS3Key, parseS3Message } from '@media/service/processing';

const notification = (eventName: string, key: string) =>
  JSON.stringify({ Records: [{ eventName, s3: { bucket: { name: 'b' }, object: { key, size: 3 } } }] });

describe('S3 notifications from the ingest queue', () => {
  it('decodes keys encoded the AWS way (+) and the emulator way (%20)', () => {
    expect(decodeS3Key('incoming/a+b/c')).toBe('incoming/a b/c');
    expect(decodeS3Key('incoming/a%20b/c')).toBe('incoming/a b/c');
    expect(decodeS3Key('%E0%A4%A')).toBeNull();
  });

  it('returns created objects and skips other events', () => {
    expect(parseS3Message(notification('ObjectCreated:Post', 'incoming/t/x'))).toEqual({
      kind: 'objects',
      created: [{ bucket: 'b', key: 'incoming/t/x', size: 3 }],
      skipped: [],
    });
    const removed = parseS3Message(notification('ObjectRemoved:Delete', 'incoming/t/x'));
    expect(removed).toMatchObject({ kind: 'objects', created: [], skipped: [{ reason: 'not-object-created' }] });
  });

  it('ignores test events and malformed bodies without throwing', () => {
    expect(parseS3Message(JSON.stringify({ Event: 's3:TestEvent' }))).toEqual({ kind: 'ignored', reason: 'test-event' });
    expect(parseS3Message('{not json')).toEqual({ kind: 'ignored', reason: 'malformed-body' });
    expect(parseS3Message('{"Records":"nope"}')).toEqual({ kind: 'ignored', reason: 'not-an-s3-notification' });
    expect(parseS3Message('{"Records":[{"eventName":1}]}')).toMatchObject({ skipped: [{ reason: 'malformed-record' }] });
  });
});
