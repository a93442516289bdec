/**
 * A GIF without its metadata, the frames untouched. Kept: the header, the logical screen and its
 * colour table, every image (descriptor, colour table, LZW data), graphic control extensions
 * (delay, transparency), and the application extensions that change how it plays or looks:
 * NETSCAPE2.0/ANIMEXTS1.0 (looping) and ICCRGBG1 (its ICC profile). Dropped: comment extensions,
 * plain-text extensions (no browser draws them), XMP and every other application extension.
 * GIF has no orientation.
 */

const KEPT_APPLICATIONS = ['NETSCAPE2.0', 'ANIMEXTS1.0', 'ICCRGBG1012'];

/** Index just past a run of data sub-blocks (each a length byte and that many bytes, ending with 0). */
function afterSubBlocks(b: Uint8Array, i: number): number {
  while (i < b.length && b[i] !== 0) i += b[i]! + 1;
  return Math.min(b.length, i + 1);
}

const colourTableBytes = (flags: number) => (flags & 0x80 ? 3 * (1 << ((flags & 0x07) + 1)) : 0);

/** `gif` must start with GIF87a/GIF89a (the inspection has checked it). */
export function removeGifMetadata(gif: Uint8Array): Buffer {
  const b = Buffer.from(gif.buffer, gif.byteOffset, gif.length);
  const headerEnd = Math.min(b.length, 13 + colourTableBytes(b[10] ?? 0));
  const kept: Buffer[] = [b.subarray(0, headerEnd)];
  let i = headerEnd;
  while (i < b.length) {
    const block = b[i]!;
    if (block === 0x3b) {
      kept.push(b.subarray(i, i + 1));
      break;
    }
    if (block === 0x2c) {
      if (i + 10 > b.length) break;
      const data = i + 10 + colourTableBytes(b[i + 9]!);
      const end = afterSubBlocks(b, data + 1); // after the LZW minimum code size
      kept.push(b.subarray(i, end));
      i = end;
    } else if (block === 0x21) {
      const label = b[i + 1];
      const end = afterSubBlocks(b, i + 2);
      const identifier = b.toString('latin1', i + 3, Math.min(end, i + 14));
      if (label === 0xf9 || (label === 0xff && b[i + 2] === 11 && KEPT_APPLICATIONS.includes(identifier))) kept.push(b.subarray(i, end));
      i = end;
    } else {
      break; // not a block: the decoder stops here too
    }
  }
  if (kept.at(-1)?.[0] !== 0x3b || kept.length === 1) kept.push(Buffer.from([0x3b])); // a GIF ends with its trailer
  const clean = Buffer.concat(kept);
  return clean.equals(b) ? b : clean; // nothing to lose: the input itself, not a second copy of it
}
