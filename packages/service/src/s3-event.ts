import * as z from 'zod/mini';

/** One object-created notification we may act on. */
export interface ObjectCreated {
  bucket: string;
  key: string;
  size: number | null;
}

export type S3MessageContent =
  | { kind: 'objects'; created: ObjectCreated[]; skipped: { reason: string; key?: string }[] }
  | { kind: 'ignored'; reason: string };

const S3Record = z.object({
  eventName: z.string(),
  s3: z.object({
    bucket: z.object({ name: z.string() }),
    object: z.object({ key: z.string(), size: z.optional(z.int().check(z.nonnegative())) }),
  }),
});

const S3Notification = z.object({ Records: z.array(z.unknown()) });

/** AWS encodes keys as URL form values (`+` for a space); some emulators use `%20`. Both decode here. */
export function decodeS3Key(raw: string): string | null {
  try {
    return decodeURIComponent(raw.replace(/\+/g, ' '));
  } catch {
    return null;
  }
}

/** Reads an SQS message body that should hold an S3 notification. Never throws: bodies are hostile. */
export function parseS3Message(body: string): S3MessageContent {
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    return { kind: 'ignored', reason: 'malformed-body' };
  }
  if (json && typeof json === 'object' && (json as { Event?: unknown }).Event === 's3:TestEvent') {
    return { kind: 'ignored', reason: 'test-event' };
  }
  const notification = S3Notification.safeParse(json);
  if (!notification.success) return { kind: 'ignored', reason: 'not-an-s3-notification' };

  const created: ObjectCreated[] = [];
  const skipped: { reason: string; key?: string }[] = [];
  for (const raw of notification.data.Records) {
    const record = S3Record.safeParse(raw);
    if (!record.success) {
      skipped.push({ reason: 'malformed-record' });
      continue;
    }
    const { eventName, s3 } = record.data;
    const key = decodeS3Key(s3.object.key);
    if (key === null) {
      skipped.push({ reason: 'undecodable-key' });
      continue;
    }
    if (!eventName.startsWith('ObjectCreated:')) {
      skipped.push({ reason: 'not-object-created', key });
      continue;
    }
    created.push({ bucket: s3.bucket.name, key, size: s3.object.size ?? null });
  }
  return { kind: 'objects', created, skipped };
}
