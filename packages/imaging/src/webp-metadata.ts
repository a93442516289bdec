/**
 * A WebP without its metadata, the image data untouched. Kept: VP8X (the extended header, its
 * flags rewritten to what is left), ICCP (colour), ANIM, ANMF (each frame keeping only its own
 * image chunks), ALPH, VP8 and VP8L. Dropped: EXIF, XMP and every chunk the format does not define.
 * The orientation, when not 1, comes back as an EXIF chunk with that one tag (an EXIF chunk exists
 * only in the extended format, so a simple WebP never has one). The RIFF size is recomputed.
 */

const IMAGE_CHUNKS = new Set(['ALPH', 'VP8 ', 'VP8L']);
/** Lengths of the fixed-size chunks; a longer one is cut to its size. */
const FIXED: Record<string, number> = { VP8X: 10, ANIM: 6 };
const FRAME_HEADER = 16; // ANMF: position, size, duration and flags, before its own chunks

const ICC_FLAG = 0x20;
const ALPHA_FLAG = 0x10;
const EXIF_FLAG = 0x08;
const ANIMATION_FLAG = 0x02;

function chunk(fourcc: string, payload: Uint8Array): Buffer {
  const out = Buffer.alloc(8 + payload.length + (payload.length % 2));
  out.write(fourcc, 0, 'latin1');
  out.writeUInt32LE(payload.length, 4);
  out.set(payload, 8);
  return out;
}

function* chunks(b: Buffer, start: number, end: number): Generator<{ fourcc: string; payload: Buffer }> {
  let i = start;
  while (i + 8 <= end) {
    const fourcc = b.toString('latin1', i, i + 4);
    const size = b.readUInt32LE(i + 4);
    const payloadEnd = Math.min(end, i + 8 + size);
    yield { fourcc, payload: b.subarray(i + 8, payloadEnd) };
    i = payloadEnd + (size % 2);
  }
}

/** `webp` must be RIFF/WEBP (the inspection has checked it); `exif` is a bare TIFF-structure EXIF block. */
export function removeWebpMetadata(webp: Uint8Array, exif: Uint8Array | null): Buffer {
  const b = Buffer.from(webp.buffer, webp.byteOffset, webp.length);
  const end = Math.min(b.length, 8 + b.readUInt32LE(4));
  const kept: Buffer[] = [];
  let header: Buffer | null = null;
  let icc = false;
  for (const { fourcc, payload } of chunks(b, 12, end)) {
    if (fourcc === 'VP8X') {
      if (header) continue; // one extended header; a second is not the format's
      header = Buffer.from(payload.subarray(0, FIXED.VP8X));
      kept.push(header); // placeholder: its flags are written below, once the rest is known
    } else if (fourcc === 'ICCP') {
      icc = true;
      kept.push(chunk(fourcc, payload));
    } else if (fourcc === 'ANIM') {
      kept.push(chunk(fourcc, payload.subarray(0, FIXED.ANIM)));
    } else if (fourcc === 'ANMF' && payload.length >= FRAME_HEADER) {
      const inner = [...chunks(payload, FRAME_HEADER, payload.length)].filter((c) => IMAGE_CHUNKS.has(c.fourcc));
      kept.push(chunk(fourcc, Buffer.concat([payload.subarray(0, FRAME_HEADER), ...inner.map((c) => chunk(c.fourcc, c.payload))])));
    } else if (IMAGE_CHUNKS.has(fourcc)) {
      kept.push(chunk(fourcc, payload));
    }
  }
  const withExif = header !== null && exif !== null;
  if (header) {
    // Only the flags for what remains: alpha and animation as they were, ICC if kept, EXIF if written.
    header[0] = (header[0]! & (ALPHA_FLAG | ANIMATION_FLAG)) | (icc ? ICC_FLAG : 0) | (withExif ? EXIF_FLAG : 0);
    header[1] = header[2] = header[3] = 0; // reserved
    kept[kept.indexOf(header)] = chunk('VP8X', header);
  }
  if (withExif) kept.push(chunk('EXIF', exif));
  const riff = Buffer.alloc(12);
  riff.write('RIFF', 0, 'latin1');
  riff.writeUInt32LE(4 + kept.reduce((n, c) => n + c.length, 0), 4);
  riff.write('WEBP', 8, 'latin1');
  const clean = Buffer.concat([riff, ...kept]);
  return clean.equals(b) ? b : clean; // nothing to lose: the input itself, not a second copy of it
}
