import type { SniffedType } from './sniff';

/**
 * Where the image's own bytes end, found by walking the format's container structure (JPEG
 * segments up to EOI, PNG chunks up to IEND, GIF blocks up to the trailer, the RIFF size, ISOBMFF
 * boxes). Whatever follows is a trailer: a motion photo's video, a second JPEG, or something
 * smuggled in. Returns null where the structure does not say (TIFF keeps offsets, not an end) or
 * the file ends before its image does; the decoder then judges the truncation.
 */
export function imageByteLength(bytes: Uint8Array, type: SniffedType): number | null {
  switch (type) {
    case 'image/jpeg':
      return jpegLength(bytes);
    case 'image/png':
      return pngLength(bytes);
    case 'image/gif':
      return gifLength(bytes);
    case 'image/webp':
      return webpLength(bytes);
    case 'image/avif':
    case 'image/heic':
      return isoBoxesLength(bytes);
    default:
      return null;
  }
}

const u16be = (b: Uint8Array, i: number) => (b[i]! << 8) | b[i + 1]!;
const u32be = (b: Uint8Array, i: number) => ((b[i]! << 24) | (b[i + 1]! << 16) | (b[i + 2]! << 8) | b[i + 3]!) >>> 0;
const u32le = (b: Uint8Array, i: number) => (b[i]! | (b[i + 1]! << 8) | (b[i + 2]! << 16) | (b[i + 3]! << 24)) >>> 0;

function jpegLength(b: Uint8Array): number | null {
  const bytes = Buffer.from(b.buffer, b.byteOffset, b.length); // for its native indexOf
  let i = 2; // after SOI
  while (i + 1 < b.length) {
    if (b[i] !== 0xff) return null;
    while (i < b.length && b[i] === 0xff) i++; // fill bytes
    if (i >= b.length) return null;
    const marker = b[i++]!;
    if (marker === 0xd9) return i; // EOI
    if ((marker >= 0xd0 && marker <= 0xd7) || marker === 0x01) continue; // no length
    if (i + 2 > b.length) return null;
    i += u16be(b, i);
    if (marker !== 0xda) continue;
    // Entropy-coded data after SOS: runs to the next marker that is neither a stuffed 0xFF00 nor a restart.
    for (i = bytes.indexOf(0xff, i); i !== -1 && i + 1 < b.length; i = bytes.indexOf(0xff, i + 1)) {
      const next = b[i + 1]!;
      if (next !== 0x00 && next !== 0xff && !(next >= 0xd0 && next <= 0xd7)) break;
    }
    if (i === -1) return null;
  }
  return null;
}

function pngLength(b: Uint8Array): number | null {
  let i = 8;
  while (i + 12 <= b.length) {
    const length = u32be(b, i);
    const type = String.fromCharCode(b[i + 4]!, b[i + 5]!, b[i + 6]!, b[i + 7]!);
    i += 12 + length;
    if (type === 'IEND') return i <= b.length ? i : null;
  }
  return null;
}

function gifLength(b: Uint8Array): number | null {
  const skipSubBlocks = (i: number) => {
    while (i < b.length && b[i] !== 0) i += b[i]! + 1;
    return i + 1;
  };
  let i = 13;
  if (b.length < i) return null;
  if (b[10]! & 0x80) i += 3 * (1 << ((b[10]! & 0x07) + 1)); // global colour table
  while (i < b.length) {
    const block = b[i]!;
    if (block === 0x3b) return i + 1; // trailer
    if (block === 0x21) {
      i = skipSubBlocks(i + 2);
    } else if (block === 0x2c) {
      if (i + 10 > b.length) return null;
      const flags = b[i + 9]!;
      i += 10;
      if (flags & 0x80) i += 3 * (1 << ((flags & 0x07) + 1)); // local colour table
      i = skipSubBlocks(i + 1); // after the LZW minimum code size
    } else {
      return null;
    }
  }
  return null;
}

function webpLength(b: Uint8Array): number | null {
  const riff = u32le(b, 4);
  const length = 8 + riff + (riff % 2);
  return length <= b.length ? length : null;
}

function isoBoxesLength(b: Uint8Array): number | null {
  let i = 0;
  while (i + 8 <= b.length) {
    let size = u32be(b, i);
    const type = String.fromCharCode(b[i + 4]!, b[i + 5]!, b[i + 6]!, b[i + 7]!);
    if (!/^[a-z0-9 ]{4}$/i.test(type)) return i;
    if (size === 0) return b.length;
    if (size === 1) {
      if (i + 16 > b.length) return null;
      size = u32be(b, i + 8) * 2 ** 32 + u32be(b, i + 12);
    }
    if (size < 8 || i + size > b.length) return null;
    i += size;
  }
  return i;
}
