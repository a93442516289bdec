import { crc32 } from 'node:zlib';

/**
 * A PNG without its metadata, the image data untouched. Kept, byte for byte: the critical chunks
 * (IHDR, PLTE, IDAT, IEND), what changes how the pixels look (tRNS, gAMA, cHRM, sRGB, iCCP, sBIT,
 * cICP, mDCV, cLLI), the pixel density (pHYs) and APNG's animation chunks (acTL, fcTL, fdAT: frames,
 * not metadata). The ICC profile's name, free text, becomes "ICC profile". Dropped: tEXt, zTXt,
 * iTXt (XMP lives there), eXIf, tIME, bKGD, hIST, sPLT and every chunk this list does not know,
 * as well as a fixed-size chunk whose length is not its size (room to hide text in).
 * The orientation, when not 1, comes back as an eXIf chunk with that one tag.
 */

const SIGNATURE = Buffer.from('\x89PNG\r\n\x1a\n', 'latin1');
const PROFILE_NAME = 'ICC profile\0';

/** Chunks kept, with their fixed length where the specification gives one. */
const KEPT: ReadonlyMap<string, number | null> = new Map([
  ['IHDR', 13],
  ['PLTE', null],
  ['IDAT', null],
  ['IEND', 0],
  ['tRNS', null],
  ['gAMA', 4],
  ['cHRM', 32],
  ['sRGB', 1],
  ['iCCP', null],
  ['sBIT', null],
  ['cICP', 4],
  ['mDCV', 24],
  ['cLLI', 8],
  ['pHYs', 9],
  ['acTL', 8],
  ['fcTL', 26],
  ['fdAT', null],
]);

export function pngChunk(type: string, data: Uint8Array): Buffer {
  const chunk = Buffer.alloc(12 + data.length);
  chunk.writeUInt32BE(data.length, 0);
  chunk.write(type, 4, 'latin1');
  chunk.set(data, 8);
  chunk.writeUInt32BE(crc32(chunk.subarray(4, 8 + data.length)), 8 + data.length);
  return chunk;
}

/** `png` must start with the PNG signature (the inspection has checked it); `exif` is a bare TIFF-structure EXIF block. */
export function removePngMetadata(png: Uint8Array, exif: Uint8Array | null): Buffer {
  const b = Buffer.from(png.buffer, png.byteOffset, png.length);
  const out: Buffer[] = [SIGNATURE];
  let changed = false;
  let i = 8;
  while (i + 8 <= b.length) {
    const length = b.readUInt32BE(i);
    const type = b.toString('latin1', i + 4, i + 8);
    const end = Math.min(b.length, i + 12 + length);
    const chunk = b.subarray(i, end);
    i = end;
    const size = KEPT.get(type);
    if (size === undefined || (size !== null && size !== length)) {
      changed = true;
      continue;
    }
    if (type === 'iCCP' && chunk.toString('latin1', 8, 8 + PROFILE_NAME.length) !== PROFILE_NAME) {
      out.push(renamedProfile(chunk.subarray(8, 8 + length)) ?? Buffer.alloc(0));
      changed = true;
    } else {
      out.push(chunk);
    }
    // eXIf must come before the image data; right after IHDR is always before it.
    if (type === 'IHDR' && exif) {
      out.push(pngChunk('eXIf', exif));
      changed = true;
    }
    if (type === 'IEND') break;
  }
  // A PNG that had nothing to lose is kept as it is, without a copy (a large PNG is tens of MB).
  return changed || i !== b.length ? Buffer.concat(out) : b;
}

/** iCCP is a name (1–79 bytes of free text), a NUL, the compression method and the profile. */
function renamedProfile(data: Buffer): Buffer | null {
  const nul = data.indexOf(0);
  if (nul < 1 || nul > 79) return null; // malformed: decoders ignore it, so may we
  return pngChunk('iCCP', Buffer.concat([Buffer.from(PROFILE_NAME, 'latin1'), data.subarray(nul + 1)]));
}
