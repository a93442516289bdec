import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { processImage } from '@media/imaging';
import { withJpegSegment, withPngChunk } from '../../../test/fixtures/images/bytes';
import { markedPicture } from '../../../test/fixtures/images/pictures';
import { optionsFor } from './outcomes';

const APP1 = 0xe1;
const APP13 = 0xed;
const COM = 0xfe;

/** An IPTC record inside a Photoshop APP13 block, as newsroom tools write it: a by-line. */
function iptcBlock(byline: string): Buffer {
  const dataset = Buffer.concat([Buffer.from([0x1c, 0x02, 0x50, 0x00, byline.length]), Buffer.from(byline, 'latin1')]);
  const resource = Buffer.concat([Buffer.from('8BIM\x04\x04\0\0', 'latin1'), Buffer.alloc(4), dataset]);
  resource.writeUInt32BE(dataset.length, 8);
  return Buffer.concat([Buffer.from('Photoshop 3.0\0', 'latin1'), resource]);
}

const XMP = `<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"><rdf:Description xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:creator>XMP-SECRET-CREATOR</dc:creator></rdf:Description></rdf:RDF></x:xmpmeta>`;

/** Every block a camera or editor writes: EXIF with GPS, XMP, IPTC, a comment, a Display P3 profile. */
async function everyMetadataBlock(): Promise<Buffer> {
  const jpeg = await markedPicture(400, 300)
    .withExif({
      IFD0: { Make: 'EXIF-SECRET-MAKE', Artist: 'EXIF-SECRET-ARTIST' },
      IFD3: { GPSLatitudeRef: 'N', GPSLatitude: '48/1 51/1 2400/100', GPSLongitudeRef: 'E', GPSLongitude: '2/1 21/1 300/100' },
    })
    .withXmp(XMP)
    .withIccProfile('p3')
    .jpeg()
    .toBuffer();
  return withJpegSegment(withJpegSegment(jpeg, APP13, iptcBlock('IPTC-SECRET-BYLINE')), COM, Buffer.from('COMMENT-SECRET'));
}

const SECRETS = ['EXIF-SECRET', 'XMP-SECRET', 'xmpmeta', 'IPTC-SECRET', 'Photoshop', 'COMMENT-SECRET', 'Display P3', 'Exif'];

describe('no metadata block reaches a derivative', () => {
  it('strips EXIF, GPS, XMP, IPTC, comments and the ICC profile from every variant', async () => {
    const input = await everyMetadataBlock();
    const meta = await sharp(input).metadata();
    expect([meta.exif, meta.xmp, meta.iptc, meta.icc].every(Boolean), 'the input carries all of them').toBe(true);
    expect(input.includes('COMMENT-SECRET')).toBe(true);

    const result = await processImage(input, optionsFor('attendance', 'image/jpeg'));
    expect(result.derivatives.map((d) => d.name)).toEqual(['thumb', 'small', 'medium', 'large', 'ml']);
    for (const d of result.derivatives) {
      const out = await sharp(d.data).metadata();
      expect(
        { exif: out.exif, xmp: out.xmp, iptc: out.iptc, icc: out.icc, orientation: out.orientation, comments: out.comments },
        d.name,
      ).toEqual({
        exif: undefined,
        xmp: undefined,
        iptc: undefined,
        icc: undefined,
        orientation: undefined,
        comments: undefined,
      });
      for (const secret of SECRETS) expect(d.data.includes(secret), `${d.name} contains ${secret}`).toBe(false);
    }
    // The original loses them too, all but its colour profile (original-metadata.test.ts has the detail).
    for (const secret of SECRETS.filter((s) => s !== 'Display P3'))
      expect(result.original.includes(secret), `the original contains ${secret}`).toBe(false);
    expect((await sharp(result.original).metadata()).icc).toBeDefined();
  });

  it('strips PNG text, XMP and EXIF chunks', async () => {
    const png = await markedPicture(300, 200)
      .withExif({ IFD0: { Artist: 'EXIF-SECRET-ARTIST' } })
      .withXmp(XMP)
      .png()
      .toBuffer();
    const withText = withPngChunk(
      withPngChunk(png, 'tEXt', Buffer.from('Comment\0COMMENT-SECRET', 'latin1')),
      'iTXt',
      Buffer.from('Author\0\0\0\0\0IPTC-SECRET-BYLINE', 'latin1'),
    );
    const result = await processImage(withText, optionsFor('general', 'image/png'));
    for (const d of result.derivatives)
      for (const secret of SECRETS) expect(d.data.includes(secret), `${d.name} contains ${secret}`).toBe(false);
  });
});

describe('metadata abuse', () => {
  it('processes a JPEG with a maximal EXIF block and 1.5 MB of junk APP segments, and drops them all', async () => {
    const hugeExif = await markedPicture(400, 300)
      .withExif({ IFD0: { ImageDescription: 'D'.repeat(60_000) } })
      .jpeg()
      .toBuffer();
    let input: Buffer = hugeExif;
    for (let i = 0; i < 24; i++) input = withJpegSegment(input, 0xe2 + (i % 12), Buffer.alloc(65_000, 0x41 + (i % 26)));
    expect(input.length).toBeGreaterThan(1_500_000);
    const result = await processImage(input, optionsFor('general', 'image/jpeg'));
    for (const d of result.derivatives) {
      expect(d.data.length, d.name).toBeLessThan(200_000);
      expect(d.data.includes('DDDDDDDD'), d.name).toBe(false);
    }
  });

  it('processes a JPEG whose EXIF block is garbage, as if it had none', async () => {
    const jpeg = await markedPicture(300, 200).jpeg().toBuffer();
    const broken = Buffer.concat([Buffer.from('Exif\0\0MM\0*\xff\xff\xff\xf0', 'latin1'), Buffer.alloc(200, 0xee)]);
    const result = await processImage(withJpegSegment(jpeg, APP1, broken), optionsFor('general', 'image/jpeg'));
    expect(result).toMatchObject({ width: 300, height: 200 });
  });
});
