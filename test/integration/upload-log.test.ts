import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { UploadTicket } from '@media/core';
import { makePhoto } from '../fixtures/photos';
import { uniqueTenant } from '../support/database';
import { startTestStack, type TestStack } from '../support/test-stack';

describe("npm start's upload log (MEDIA_LOG_LEVEL=info)", () => {
  let stack: TestStack;
  const lines: string[] = [];
  const tenant = uniqueTenant();

  beforeAll(async () => {
    stack = await startTestStack({ logUploads: (line) => lines.push(line) });
  });
  afterAll(async () => {
    await stack?.close();
  });

  const linesAbout = async (mediaId: string, count: number) => {
    for (let waited = 0; waited < 60_000; waited += 100) {
      const about = lines.filter((line) => line.includes(mediaId));
      if (about.length >= count) return about;
      await new Promise((r) => setTimeout(r, 100));
    }
    return lines.filter((line) => line.includes(mediaId));
  };

  it('prints one line per state change of an upload: pending, ready, deleted', async () => {
    const token = await stack.token({ role: 'teacher', tenant, sub: 't-1', classrooms: ['c-1'] });
    const photo = await makePhoto({ width: 800, height: 600 });
    const ticket = (
      await stack.api<UploadTicket>('POST', '/v1/uploads', {
        token,
        body: { purpose: 'general', contentType: 'image/jpeg', size: photo.length },
      })
    ).json;
    await stack.postToS3(ticket.upload, photo, 'image/jpeg');
    await stack.waitForStatus(ticket.mediaId, token, ['ready']);
    // The record reads ready once its row commits; its event (the log's source) goes out right
    // after, and a DELETE sent before it arrives can have its own event printed first.
    await linesAbout(ticket.mediaId, 2);
    expect((await stack.api('DELETE', `/v1/media/${ticket.mediaId}`, { token })).status).toBe(204);
    const about = await linesAbout(ticket.mediaId, 3);
    expect(about).toHaveLength(3);
    expect(about[0]).toMatch(new RegExp(`^\\d\\d:\\d\\d:\\d\\d\\.\\d{3} upload ${ticket.mediaId} pending \\(one POST to storage\\)$`));
    expect(about[1]).toMatch(new RegExp(`upload ${ticket.mediaId} ready \\(${tenant}, general\\) image/jpeg 800×600, \\d+ variants$`));
    expect(about[2]).toMatch(new RegExp(`upload ${ticket.mediaId} deleted \\(${tenant}, general\\)$`));
  });

  it('names the code and the reason of a rejection', async () => {
    const token = await stack.token({ role: 'teacher', tenant, sub: 't-1', classrooms: ['c-1'] });
    const notAPhoto = Buffer.from('this is not a JPEG at all, only text pretending to be one');
    const ticket = (
      await stack.api<UploadTicket>('POST', '/v1/uploads', {
        token,
        body: { purpose: 'general', contentType: 'image/jpeg', size: notAPhoto.length },
      })
    ).json;
    await stack.postToS3(ticket.upload, notAPhoto, 'image/jpeg');
    const about = await linesAbout(ticket.mediaId, 2);
    expect(about[1]).toMatch(new RegExp(`upload ${ticket.mediaId} rejected \\(${tenant}, general\\) [A-Z_]+: .+`));
  });
});
