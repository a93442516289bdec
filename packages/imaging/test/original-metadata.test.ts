import fc from 'fast-check';
import sharp, { type Sharp } from 'sharp';
import { describe, expect, it } from 'vitest';
import { captureTime, orientationOnlyExif, processImage, removeMetadata } from '@media/imaging';
import { removeHeifMetadata } from '../src/heif-metadata';
import { removeGifMetadata } from '../src/gif-metadata';
import { removeJpegMetadata } from '../src/jpeg-metadata';
import { removePngMetadata } from '../src/png-metadata';
import { removeWebpMetadata } from '../src/webp-metadata';
import { withGifExtension, withJpegSegment, withPngChunk, withWebpChunk } from '../../../test/fixtures/images/bytes';
import { CAPTURED_AT, cameraPhoto, NEVER_STORED, SECRETS } from '../../../test/fixtures/images/camera-metadata';
import { markedPicture, multiFrame } from '../../../test/fixtures/images/pictures';
import { optionsFor } from './outcomes';

/** The decoded pixels, turned upright as the EXIF orientation says, before any colour conversion. */
const uprightPixels = (image: Buffer) => sharp(image).autoOrient().raw().toBuffer();
const allPages = (image: Buffer) => sharp(image, { pages: -1 }).raw().toBuffer();

function expectNoSecrets(stored: Buffer, what: string) {
  for (const secret of NEVER_STORED) expect(stored.includes(secret), `${what} still contains "${secret}"`).toBe(false);
}

/** What sharp still reads from a file: only the ICC profile and the orientation may be left. */
async function expectOnlyProfileAndOrientation(stored: Buffer, orientation: number) {
  const meta = await sharp(stored).metadata();
  expect({ xmp: meta.xmp, iptc: meta.iptc, comments: meta.comments, orientation: meta.orientation }).toEqual({
    xmp: undefined,
    iptc: undefined,
    comments: undefined,
    orientation,
  });
  expect(meta.icc, 'the colour profile stays').toBeDefined();
  // The EXIF left is the orientation-only block: 26 bytes, plus JPEG's "Exif\0\0" prefix.
  expect(meta.exif?.subarray(-26)).toEqual(orientationOnlyExif(orientation));
}

describe.each(['jpeg', 'png', 'webp'] as const)('a camera %s keeps its pixels and loses its metadata', (format) => {
  it('stores the same pixels without EXIF, GPS, XMP, IPTC, comments or private blocks, keeping the profile and orientation', async () => {
    const upload = await cameraPhoto(format);
    for (const secret of SECRETS) expect(upload.includes(secret), `the fixture carries "${secret}"`).toBe(true);
    const before = await sharp(upload).metadata();
    expect(before.exif && before.xmp && before.icc && before.orientation === 6, 'the fixture carries EXIF, XMP, ICC and orientation').toBe(
      true,
    );

    const result = await processImage(upload, optionsFor('attendance', `image/${format}`));

    expect(result.originalMethod).toBe('container');
    expectNoSecrets(result.original, 'the original');
    await expectOnlyProfileAndOrientation(result.original, 6);
    expect((await uprightPixels(result.original)).equals(await uprightPixels(upload)), 'same pixels, upright').toBe(true);
    expect(result.capturedAt).toBe(CAPTURED_AT);
    expect(result.sha256, 'the hash is of the bytes as uploaded').toBe(
      (await import('node:crypto')).createHash('sha256').update(upload).digest('hex'),
    );
    for (const d of result.derivatives) expectNoSecrets(d.data, d.name);
  });

  it('is idempotent: removing metadata from a stored original changes nothing', async () => {
    const { original } = await processImage(await cameraPhoto(format), optionsFor('attendance', `image/${format}`));
    const again = await removeMetadata(original, `image/${format}`, 6, 50e6);
    expect(again.data.equals(original)).toBe(true);
  });
});

describe('JPEG', () => {
  const APP0 = 0xe0;
  const COM = 0xfe;

  it('drops a comment hidden between the scans of a progressive JPEG', async () => {
    const progressive = await markedPicture(400, 300).jpeg({ progressive: true }).toBuffer();
    const secondScan = progressive.indexOf(Buffer.from([0xff, 0xda]), progressive.indexOf(Buffer.from([0xff, 0xda])) + 2);
    const comment = Buffer.from('\xff\xfe\0\x10COMMENT-TEXT..', 'latin1');
    const upload = Buffer.concat([progressive.subarray(0, secondScan), comment, progressive.subarray(secondScan)]);
    expect((await sharp(upload).metadata()).format).toBe('jpeg');

    const { data } = await removeMetadata(upload, 'image/jpeg', 1, 50e6);
    expect(data.includes('COMMENT-TEXT')).toBe(false);
    expect(data.equals(progressive), 'exactly the JPEG before the comment went in').toBe(true);
  });

  it("drops the JFIF header's thumbnail and keeps its density", async () => {
    const jpeg = await markedPicture(300, 200).withMetadata({ density: 300 }).jpeg().toBuffer();
    // A JFIF header with a 2×2 thumbnail whose 12 bytes of pixels spell a secret.
    const jfif = Buffer.concat([
      Buffer.from('JFIF\0\x01\x02\x01\x01\x2c\x01\x2c\x02\x02', 'latin1'),
      Buffer.from('THUMB-SECRET', 'latin1'),
    ]);
    const upload = withJpegSegment(jpeg, APP0, jfif);
    const { data } = await removeMetadata(upload, 'image/jpeg', 1, 50e6);
    expect(data.includes('THUMB-SECRET')).toBe(false);
    expect((await sharp(data).metadata()).density).toBe(300);
    expect((await uprightPixels(data)).equals(await uprightPixels(upload))).toBe(true);
  });

  it("keeps a CMYK JPEG's Adobe segment, so its colours decode the same", async () => {
    const cmyk = await markedPicture(200, 150).toColourspace('cmyk').jpeg().toBuffer();
    const upload = withJpegSegment(cmyk, COM, Buffer.from('COMMENT-TEXT', 'latin1'));
    const { data } = await removeMetadata(upload, 'image/jpeg', 1, 50e6);
    expect(data.includes('Adobe')).toBe(true);
    expect(data.includes('COMMENT-TEXT')).toBe(false);
    expect(
      (await sharp(data).toColourspace('srgb').raw().toBuffer()).equals(await sharp(upload).toColourspace('srgb').raw().toBuffer()),
    ).toBe(true);
  });

  it('writes no EXIF at all for an upright photo', async () => {
    const upload = await markedPicture(300, 200)
      .withExif({ IFD0: { Make: 'CameraMaker' } })
      .jpeg()
      .toBuffer();
    const { data } = await removeMetadata(upload, 'image/jpeg', 1, 50e6);
    expect((await sharp(data).metadata()).exif).toBeUndefined();
  });
});

describe('PNG', () => {
  it("renames the ICC profile's free-text name and drops a padded gAMA that could hide text", async () => {
    const png = await markedPicture(200, 100).withIccProfile('p3').png().toBuffer();
    const named = withPngChunk(png, 'gAMA', Buffer.concat([Buffer.from([0, 0, 0xb1, 0x8f]), Buffer.from('COMMENT-TEXT')]));
    const { data } = await removeMetadata(named, 'image/png', 1, 50e6);
    expect(data.includes('COMMENT-TEXT')).toBe(false);
    expect(data.includes('ICC profile\0')).toBe(true);
    expect((await sharp(data).metadata()).icc).toBeDefined();
    expect((await sharp(data).raw().toBuffer()).equals(await sharp(named).raw().toBuffer())).toBe(true);
  });

  it('drops a compressed text chunk after the image data, keeping alpha', async () => {
    const png = withPngChunk(
      await markedPicture(64, 48, { alpha: true }).png().toBuffer(),
      'zTXt',
      Buffer.from('Comment\0\0COMMENT-TEXT', 'latin1'),
    );
    const { data } = await removeMetadata(png, 'image/png', 1, 50e6);
    expect(data.includes('zTXt')).toBe(false);
    expect((await sharp(data).raw().toBuffer()).equals(await sharp(png).raw().toBuffer())).toBe(true);
  });
});

describe('WebP', () => {
  it('clears the EXIF and XMP flags, drops the chunks and fixes the RIFF size', async () => {
    const webp = await markedPicture(200, 100)
      .withExif({ IFD0: { Make: 'CameraMaker' } })
      .withXmp('<x:xmpmeta xmlns:x="adobe:ns:meta/">child-name</x:xmpmeta>')
      .webp()
      .toBuffer();
    const upload = withWebpChunk(webp, 'NOTE', Buffer.from('COMMENT-TEXT', 'latin1'));
    const { data } = await removeMetadata(upload, 'image/webp', 1, 50e6);
    expect(data.readUInt32LE(4) + 8).toBe(data.length);
    const flags = data[20]!; // VP8X's flags, after RIFF(12) and the chunk header(8)
    expect(data.toString('latin1', 12, 16)).toBe('VP8X');
    expect(flags & 0x08, 'EXIF flag').toBe(0);
    expect(flags & 0x04, 'XMP flag').toBe(0);
    for (const secret of ['CameraMaker', 'child-name', 'COMMENT-TEXT', 'EXIF', 'XMP ']) expect(data.includes(secret), secret).toBe(false);
    expect((await sharp(data).raw().toBuffer()).equals(await sharp(upload).raw().toBuffer())).toBe(true);
  });

  it('keeps every frame of an animated WebP', async () => {
    const animated = withWebpChunk(
      await multiFrame('webp', [
        [200, 0, 0],
        [0, 200, 0],
        [0, 0, 200],
      ]),
      'XMP ',
      Buffer.from('child-name', 'latin1'),
    );
    const { data } = await removeMetadata(animated, 'image/webp', 1, 50e6);
    expect(data.includes('child-name')).toBe(false);
    expect((await sharp(data).metadata()).pages).toBe(3);
    expect((await allPages(data)).equals(await allPages(animated))).toBe(true);
  });
});

describe('GIF', () => {
  it('drops comments and XMP, keeps looping and every frame', async () => {
    const gif = await multiFrame('gif', [
      [200, 0, 0],
      [0, 200, 0],
    ]);
    const commented = withGifExtension(gif, 0xfe, [Buffer.from('COMMENT-TEXT', 'latin1')]);
    const upload = withGifExtension(commented, 0xff, [
      Buffer.from('XMP DataXMP', 'latin1'),
      Buffer.from('<x:xmpmeta>child-name</x:xmpmeta>', 'latin1'),
    ]);
    expect(upload.includes('COMMENT-TEXT') && upload.includes('child-name')).toBe(true);
    const { data, method } = await removeMetadata(upload, 'image/gif', 1, 50e6);
    expect(method).toBe('container');
    expect(data.includes('COMMENT-TEXT') || data.includes('child-name')).toBe(false);
    expect((await sharp(data).metadata()).loop).toBe((await sharp(gif).metadata()).loop);
    expect((await allPages(data)).equals(await allPages(gif))).toBe(true);
  });
});

describe('AVIF', () => {
  const cameraAvif = () =>
    markedPicture(120, 80, { alpha: true })
      .withExif({ IFD0: { Make: 'CameraMaker' }, IFD2: { DateTimeOriginal: '2024:03:02 08:15:04' } })
      .withXmp('<x:xmpmeta xmlns:x="adobe:ns:meta/">child-name</x:xmpmeta>')
      .withIccProfile('p3')
      .avif({ quality: 60 })
      .toBuffer();

  it('drops the EXIF and XMP items and their bytes, keeping the image, its alpha and its profile, the same size', async () => {
    const avif = await cameraAvif();
    expect(avif.includes('CameraMaker') && avif.includes('child-name')).toBe(true);
    const { data, method } = await removeMetadata(avif, 'image/avif', 1, 50e6);
    expect(method).toBe('container');
    expect(data.length, 'the metadata bytes are zeros now, and meta is padded with a free box').toBe(avif.length);
    for (const secret of ['CameraMaker', 'child-name', 'Exif', 'application/rdf+xml', '2024:03:02'])
      expect(data.includes(secret), secret).toBe(false);
    const meta = await sharp(data).metadata();
    expect({ exif: meta.exif, xmp: meta.xmp, hasAlpha: meta.hasAlpha, icc: Boolean(meta.icc) }).toEqual({
      exif: undefined,
      xmp: undefined,
      hasAlpha: true,
      icc: true,
    });
    expect((await sharp(data).raw().toBuffer()).equals(await sharp(avif).raw().toBuffer())).toBe(true);
  });

  it('zeroes bytes of the data box that no image item uses, and the content of free boxes', async () => {
    const avif = await cameraAvif();
    const mdat = avif.indexOf('mdat', 0, 'latin1') - 4;
    expect(mdat + avif.readUInt32BE(mdat), 'mdat is the last box').toBe(avif.length);
    const hidden = Buffer.from('child-name: Ann, hidden where no item points', 'latin1');
    const stuffed = Buffer.concat([avif, hidden, Buffer.from('\0\0\0\x14freechild-name!!', 'latin1')]);
    stuffed.writeUInt32BE(avif.length - mdat + hidden.length, mdat);
    expect((await sharp(stuffed).raw().toBuffer()).equals(await sharp(avif).raw().toBuffer()), 'the fixture still decodes').toBe(true);

    const { data, method } = await removeMetadata(stuffed, 'image/avif', 1, 50e6);
    expect(method).toBe('container');
    expect(data.includes('child-name')).toBe(false);
    expect((await sharp(data).raw().toBuffer()).equals(await sharp(avif).raw().toBuffer())).toBe(true);
  });

  it('re-encodes losslessly an AVIF whose structure it does not cover: the same decoded pixels, no metadata', async () => {
    // A movie box (an image sequence's) after the image: not a structure rewritten in place.
    const moov = Buffer.from('\0\0\0\x14moovchild-name: Ann!', 'latin1');
    const avif = Buffer.concat([await cameraAvif(), moov]);
    const { data, method } = await removeMetadata(avif, 'image/avif', 1, 50e6);
    expect(method).toBe('re-encoded');
    expect(data.includes('CameraMaker') || data.includes('child-name')).toBe(false);
    const meta = await sharp(data).metadata();
    expect({ exif: meta.exif, xmp: meta.xmp }).toEqual({ exif: undefined, xmp: undefined });
    expect((await uprightPixels(data)).equals(await uprightPixels(avif))).toBe(true);
  });

  it('keeps the capture time of an AVIF in the record', async () => {
    const result = await processImage(await cameraAvif(), optionsFor('general', 'image/avif'));
    expect(result.capturedAt).toBe('2024-03-02T08:15:04');
  });
});

describe('TIFF is written anew', () => {
  it('re-encodes a TIFF upright with lossless deflate: no EXIF or XMP, the same pixels after orientation', async () => {
    const tiff = await markedPicture(120, 80)
      .withMetadata({ orientation: 6 })
      .withXmp('<x:xmpmeta xmlns:x="adobe:ns:meta/">child-name</x:xmpmeta>')
      .tiff()
      .toBuffer();
    const { data, method } = await removeMetadata(tiff, 'image/tiff', 6, 50e6);
    expect(method).toBe('re-encoded');
    expect(data.includes('child-name')).toBe(false);
    expect((await sharp(data).metadata()).orientation, 'written upright').toBe(1);
    expect((await uprightPixels(data)).equals(await uprightPixels(tiff))).toBe(true);
  });
});

describe('the capture time', () => {
  const exifOf = async (tags: Record<string, string>) =>
    (
      await sharp(
        await markedPicture(40, 30)
          .withExif({ IFD0: { Make: 'X' }, IFD2: tags })
          .jpeg()
          .toBuffer(),
      ).metadata()
    ).exif;

  it('is the EXIF DateTimeOriginal with its UTC offset and fraction of a second', async () => {
    expect(
      captureTime(await exifOf({ DateTimeOriginal: '2024:03:02 08:15:04', OffsetTimeOriginal: '-05:00', SubSecTimeOriginal: '27' })),
    ).toBe('2024-03-02T08:15:04.270-05:00');
  });

  it("is the camera's local time when the file names no offset", async () => {
    expect(captureTime(await exifOf({ DateTimeOriginal: '2023:12:31 23:59:59' }))).toBe('2023-12-31T23:59:59');
  });

  it('is null without the tag, for dates no calendar has, and for a broken EXIF block', async () => {
    expect(captureTime(await exifOf({ DateTimeDigitized: '2023:12:31 23:59:59' }))).toBeNull();
    expect(captureTime(await exifOf({ DateTimeOriginal: '0000:00:00 00:00:00' }))).toBeNull();
    expect(captureTime(await exifOf({ DateTimeOriginal: '2023:02:30 10:00:00' }))).toBeNull();
    expect(captureTime(undefined)).toBeNull();
    expect(captureTime(Buffer.concat([Buffer.from('Exif\0\0MM\0*\xff\xff\xff\xf0', 'latin1'), Buffer.alloc(200, 0xee)]))).toBeNull();
  });

  it('is null for an upload without EXIF', async () => {
    const result = await processImage(await markedPicture(300, 200).jpeg().toBuffer(), optionsFor('general', 'image/jpeg'));
    expect(result.capturedAt).toBeNull();
  });
});

describe('damaged containers', () => {
  const walkers: [string, (bytes: Buffer) => unknown, (image: Sharp) => Sharp][] = [
    ['JPEG', (b) => removeJpegMetadata(b, orientationOnlyExif(6)), (i) => i.jpeg()],
    ['PNG', (b) => removePngMetadata(b, orientationOnlyExif(6)), (i) => i.png()],
    ['WebP', (b) => removeWebpMetadata(b, orientationOnlyExif(6)), (i) => i.webp()],
    ['GIF', (b) => removeGifMetadata(b), (i) => i.gif()],
    ['AVIF', (b) => removeHeifMetadata(b), (i) => i.avif()],
  ];

  it.each(walkers)('the %s walker never throws on overwritten or cut bytes', async (_name, walk, encode) => {
    const file = await encode(
      markedPicture(64, 48)
        .withExif({ IFD0: { Make: 'CameraMaker' } })
        .withXmp('<x:xmpmeta xmlns:x="adobe:ns:meta/">a</x:xmpmeta>'),
    ).toBuffer();
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.nat(file.length - 1), fc.integer({ min: 0, max: 255 })), { maxLength: 6 }),
        fc.nat(file.length),
        (edits, cut) => {
          const damaged = Buffer.from(file);
          for (const [at, value] of edits) damaged[at] = value;
          walk(damaged.subarray(0, Math.max(12, cut)));
        },
      ),
      { numRuns: 500 },
    );
  });
});
