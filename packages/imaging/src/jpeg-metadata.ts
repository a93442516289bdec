/**
 * A JPEG without its metadata, the compressed image data untouched (so it decodes to the same
 * pixels). Kept: the segments a decoder reads — frame and scan headers, Huffman, quantisation and
 * arithmetic tables, restart interval — the entropy-coded data, the JFIF header (without its
 * thumbnail), Adobe's APP14 (it says how to read the colour of CMYK and RGB files) and the ICC
 * profile (colour, not identity). Dropped, wherever they sit (between scans too): EXIF with its
 * GPS, maker notes and thumbnail, XMP, IPTC and Photoshop blocks, comments, multi-picture indexes,
 * FlashPix and every other application segment, and stray bytes between segments, which a decoder
 * skips anyway. The orientation, when not 1, comes back as an EXIF block with that one tag.
 */

const SOI = 0xd8;
const EOI = 0xd9;
const SOS = 0xda;
const APP0 = 0xe0;
const APP2 = 0xe2;
const APP14 = 0xee;

/** Frame headers SOF0–SOF15 (0xC4 DHT, 0xC8 JPG and 0xCC DAC are not frames), then the tables. */
const DECODER_SEGMENTS = new Set([
  0xc0,
  0xc1,
  0xc2,
  0xc3,
  0xc5,
  0xc6,
  0xc7,
  0xc9,
  0xca,
  0xcb,
  0xcd,
  0xce,
  0xcf, // SOFn
  0xc4, // DHT
  0xcc, // DAC
  0xdb, // DQT
  0xdc, // DNL
  0xdd, // DRI
  0xde, // DHP
  0xdf, // EXP
]);

const startsWith = (b: Uint8Array, at: number, text: string) =>
  Buffer.from(b.buffer, b.byteOffset + at, Math.min(text.length, Math.max(0, b.length - at))).toString('latin1') === text;

function segment(marker: number, payload: Uint8Array): Buffer {
  const head = Buffer.from([0xff, marker, 0, 0]);
  head.writeUInt16BE(payload.length + 2, 2);
  return Buffer.concat([head, payload]);
}

/**
 * `jpeg` must start with SOI (the inspection has checked it). `exif`, when given, is an EXIF block
 * without its `Exif\0\0` prefix, written right after SOI (or after JFIF, which must come first).
 */
export function removeJpegMetadata(jpeg: Uint8Array, exif: Uint8Array | null): Buffer {
  const b = Buffer.from(jpeg.buffer, jpeg.byteOffset, jpeg.length);
  const head: Buffer[] = [Buffer.from([0xff, SOI])];
  const body: Buffer[] = [];
  let i = 2;
  while (i < b.length) {
    if (b[i] !== 0xff) {
      // Bytes outside any segment: libjpeg skips to the next marker ("extraneous bytes"), so do we.
      const next = b.indexOf(0xff, i);
      if (next === -1) break;
      i = next;
      continue;
    }
    while (i < b.length && b[i] === 0xff) i++; // fill bytes
    if (i >= b.length) break;
    const marker = b[i++]!;
    if (marker === EOI) {
      body.push(Buffer.from([0xff, EOI]));
      break;
    }
    if ((marker >= 0xd0 && marker <= 0xd7) || marker === 0x01) {
      body.push(Buffer.from([0xff, marker])); // RSTn, TEM: no length
      continue;
    }
    if (i + 2 > b.length) break;
    const length = b.readUInt16BE(i);
    if (length < 2) continue; // not a segment: skipped as stray bytes
    const end = Math.min(b.length, i + length);
    const payload = b.subarray(i + 2, end);
    i = end;

    if (marker === SOS) {
      // The scan header, then its entropy-coded data up to the next marker that is neither a
      // stuffed 0xFF00 nor a restart: the image itself, copied byte for byte.
      let stop = b.indexOf(0xff, i);
      while (stop !== -1 && stop + 1 < b.length) {
        const next = b[stop + 1]!;
        if (next !== 0x00 && next !== 0xff && !(next >= 0xd0 && next <= 0xd7)) break;
        stop = b.indexOf(0xff, stop + 1);
      }
      if (stop === -1 || stop + 1 >= b.length) stop = b.length; // no end: the decoder judged the truncation
      body.push(segment(marker, payload), b.subarray(i, stop));
      i = stop;
    } else if (DECODER_SEGMENTS.has(marker)) {
      body.push(segment(marker, payload));
    } else if (marker === APP0 && payload.length >= 14 && startsWith(payload, 0, 'JFIF\0')) {
      // Version, density units and density; the thumbnail's size set to 0×0 and its pixels gone.
      const jfif = Buffer.from(payload.subarray(0, 14));
      jfif[12] = 0;
      jfif[13] = 0;
      head.push(segment(APP0, jfif));
    } else if (marker === APP14 && payload.length >= 12 && startsWith(payload, 0, 'Adobe')) {
      body.push(segment(APP14, payload.subarray(0, 12))); // version, flags, colour transform; nothing after
    } else if (marker === APP2 && startsWith(payload, 0, 'ICC_PROFILE\0')) {
      body.push(segment(APP2, payload));
    }
    // Anything else (APP1 EXIF/XMP, APP13 IPTC, COM, other APPn, unknown markers) is left out.
  }
  if (exif) head.push(segment(0xe1, Buffer.concat([Buffer.from('Exif\0\0', 'latin1'), exif])));
  const clean = Buffer.concat([...head, ...body]);
  return clean.equals(b) ? b : clean; // nothing to lose: the input itself, not a second copy of it
}
