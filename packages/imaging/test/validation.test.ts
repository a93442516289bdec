import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { processImage } from '@media/imaging';
import { markedPicture, multiFrame } from '../../../test/fixtures/images/pictures';
import { optionsFor, outcomeOf } from './outcomes';

const picture = () => markedPicture(120, 80);

describe('the type comes from the bytes, not the claim', () => {
  it.each([
    ['a PNG declared as JPEG', () => picture().png().toBuffer(), 'image/jpeg'],
    ['a JPEG declared as PNG', () => picture().jpeg().toBuffer(), 'image/png'],
    ['a WebP declared as JPEG', () => picture().webp().toBuffer(), 'image/jpeg'],
    ['a GIF declared as WebP', () => picture().gif().toBuffer(), 'image/webp'],
    ['an AVIF declared as JPEG', () => picture().avif({ effort: 0 }).toBuffer(), 'image/jpeg'],
  ])('rejects %s as TYPE_MISMATCH', async (_, make, declared) => {
    expect((await outcomeOf(await make(), optionsFor('profile', declared))).code).toBe('TYPE_MISMATCH');
  });

  it('accepts the aliases image/jpg and image/pjpeg for a JPEG, and parameters after the type', async () => {
    const jpeg = await picture().jpeg().toBuffer();
    for (const declared of ['image/jpg', 'image/pjpeg', 'IMAGE/JPEG; charset=binary']) {
      expect((await outcomeOf(jpeg, optionsFor('profile', declared))).code, declared).toBe('accepted');
    }
  });

  it('never accepts SVG, whatever it is declared as', async () => {
    const svg = Buffer.from('<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><script>alert(1)</script></svg>');
    for (const declared of ['image/svg+xml', 'image/png']) {
      const outcome = await outcomeOf(svg, optionsFor('general', declared));
      expect(outcome.code).toBe('UNSUPPORTED_MEDIA_TYPE');
      expect(outcome.detail).toMatch(/SVG/);
    }
    const xmlSvg = Buffer.concat([Buffer.from('\ufeff<?xml version="1.0"?>\n'), svg]);
    expect((await outcomeOf(xmlSvg, optionsFor('general', 'image/svg+xml'))).code).toBe('UNSUPPORTED_MEDIA_TYPE');
  });

  it('rejects a type the purpose does not take, such as TIFF outside training', async () => {
    const tiff = await picture().tiff().toBuffer();
    expect((await outcomeOf(tiff, optionsFor('profile', 'image/tiff'))).code).toBe('UNSUPPORTED_MEDIA_TYPE');
    expect((await outcomeOf(tiff, optionsFor('training', 'image/tiff'))).code).toBe('accepted');
    const gif = await picture().gif().toBuffer();
    expect((await outcomeOf(gif, optionsFor('attendance', 'image/gif'))).code).toBe('UNSUPPORTED_MEDIA_TYPE');
  });

  it('names what a non-image file is', async () => {
    const pdf = Buffer.from('%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n');
    const outcome = await outcomeOf(pdf, optionsFor('general', 'image/jpeg'));
    expect(outcome).toEqual({ code: 'UNSUPPORTED_MEDIA_TYPE', detail: 'The file is a PDF document, not an image.' });
    const html = await outcomeOf(Buffer.from('<!doctype html><script>alert(1)</script>'), optionsFor('general', 'image/png'));
    expect(html).toEqual({ code: 'UNSUPPORTED_MEDIA_TYPE', detail: 'The file is an HTML or XML document, not an image.' });
  });
});

describe('sizes the engine checks itself', () => {
  it('rejects a zero-byte file as EMPTY_FILE', async () => {
    expect((await outcomeOf(Buffer.alloc(0), optionsFor('profile', 'image/jpeg'))).code).toBe('EMPTY_FILE');
  });

  it('rejects bytes beyond the declared size as SIZE_MISMATCH, and beyond the purpose limit as FILE_TOO_LARGE', async () => {
    const jpeg = await picture().jpeg().toBuffer();
    expect((await outcomeOf(jpeg, optionsFor('profile', 'image/jpeg', { declaredSize: jpeg.length - 1 }))).code).toBe('SIZE_MISMATCH');
    expect((await outcomeOf(jpeg, optionsFor('profile', 'image/jpeg', { declaredSize: jpeg.length }))).code).toBe('accepted');
    expect((await outcomeOf(jpeg, optionsFor('profile', 'image/jpeg', { maxBytes: 100 }))).code).toBe('FILE_TOO_LARGE');
  });
});

describe('file names', () => {
  it('rejects an extension that contradicts the content, or names another kind of file', async () => {
    const jpeg = await picture().jpeg().toBuffer();
    for (const filename of ['photo.png', 'photo.html', 'photo.svg', 'photo.jpg.exe', 'photo.php']) {
      expect((await outcomeOf(jpeg, optionsFor('profile', 'image/jpeg', { filename }))).code, filename).toBe('TYPE_MISMATCH');
    }
  });

  it('accepts the extensions of the real type in any case, and names without one', async () => {
    const jpeg = await picture().jpeg().toBuffer();
    for (const filename of ['photo.jpg', 'PHOTO.JPEG', 'scan.jfif', 'IMG_0001.JPG', 'Klassenfoto 2024', 'notes.v2.jpe']) {
      expect((await outcomeOf(jpeg, optionsFor('profile', 'image/jpeg', { filename }))).code, filename).toBe('accepted');
    }
    const tiff = await multiFrame('tiff', [[10, 20, 30]]);
    expect((await outcomeOf(tiff, optionsFor('training', 'image/tiff', { filename: 'scan.TIF' }))).code).toBe('accepted');
  });
});

describe('what an accepted image reports', () => {
  it('gives the real type, upright size, sha256 of the bytes, a 64-bit dHash and a placeholder', async () => {
    const jpeg = await sharp({ create: { width: 300, height: 200, channels: 3, background: '#3a6' } })
      .jpeg()
      .toBuffer();
    const result = await processImage(jpeg, optionsFor('profile', 'image/jpeg'));
    expect(result).toMatchObject({ contentType: 'image/jpeg', width: 300, height: 200, trailer: null });
    expect(result.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(result.phash).toMatch(/^[0-9a-f]{16}$/);
    expect(Buffer.from(result.placeholder, 'base64').length).toBeGreaterThan(5);
    expect(result.original.equals(jpeg), 'a JPEG without metadata is kept byte for byte').toBe(true);
  });
});
