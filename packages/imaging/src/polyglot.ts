/**
 * Files that are an image and something else at once. A browser, an unzip tool or a PDF reader
 * each looks for its own signature in its own place (HTML anywhere it sniffs, `%PDF-` in the first
 * kilobyte, a ZIP directory at the end), so an image that passes the decoder can still be opened
 * as a page, an archive or a document. We refuse those, and cut off only trailers a camera writes.
 */

const latin1 = (b: Uint8Array, start: number, end: number) =>
  Buffer.from(b.buffer, b.byteOffset + start, Math.max(0, Math.min(end, b.length) - start)).toString('latin1');

/** Signatures of formats we never hold as an image, by what a person would call them. */
const FOREIGN_SIGNATURES: readonly (readonly [prefix: string, name: string])[] = [
  ['%PDF', 'a PDF document'],
  ['PK\x03\x04', 'a ZIP archive'],
  ['PK\x05\x06', 'a ZIP archive'],
  ['PK\x07\x08', 'a ZIP archive'],
  ['Rar!\x1a\x07', 'a RAR archive'],
  ['7z\xbc\xaf\x27\x1c', 'a 7-Zip archive'],
  ['\x1f\x8b', 'a gzip archive'],
  ['\x7fELF', 'a program'],
  ['MZ', 'a Windows program'],
  ['\xca\xfe\xba\xbe', 'a program'],
  ['#!', 'a script'],
];

const MARKUP_TAGS = ['script', 'html', 'body', 'head', 'iframe', 'svg', 'object', 'embed', 'form', '!doctype html', '?php'];
const LONGEST_TAG = Math.max(...MARKUP_TAGS.map((t) => t.length));
// What ends a tag name for a browser's tokenizer: `>`, `/` or whitespace, form feed included.
const isTagEnd = (c: number | undefined) =>
  c === undefined || c === 0x3e || c === 0x2f || c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0c || c === 0x0d;

/** What a non-image file is, from its first bytes (for the rejection's sentence), or null. */
export function foreignFormat(bytes: Uint8Array): string | null {
  const head = latin1(bytes, 0, 8);
  for (const [prefix, name] of FOREIGN_SIGNATURES) if (head.startsWith(prefix)) return name;
  if (startsWithMarkup(bytes)) return 'an HTML or XML document';
  return null;
}

function startsWithMarkup(bytes: Uint8Array): boolean {
  const text = latin1(bytes, 0, 64)
    .replace(/^\ufeff|^\xef\xbb\xbf/, '')
    .trimStart();
  return text.startsWith('<');
}

/**
 * HTML a browser would run: a tag such as `<script` or `<html` followed by a tag end. Found in
 * text chunks, comments or EXIF, anywhere in the file. In compressed image data such a sequence
 * occurs by chance about once in 10^16 bytes, so a real photo is never refused for it.
 */
export function embeddedMarkup(bytes: Uint8Array): string | null {
  const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length);
  for (let i = buffer.indexOf(0x3c); i !== -1; i = buffer.indexOf(0x3c, i + 1)) {
    const following = buffer.toString('latin1', i + 1, i + 2 + LONGEST_TAG).toLowerCase();
    for (const tag of MARKUP_TAGS) {
      if (following.startsWith(tag) && isTagEnd(buffer[i + 1 + tag.length])) return `<${tag}`;
    }
  }
  return null;
}

/** A PDF reader accepts `%PDF-` anywhere in the first kilobyte. */
export const embeddedPdfHeader = (bytes: Uint8Array): boolean => latin1(bytes, 0, 1024).includes('%PDF-');

/**
 * A ZIP reader looks for the end-of-central-directory record in the last 64 KiB and follows it to
 * the directory, wherever the members sit. Both must be there, so chance bytes never match.
 */
export function embeddedZipDirectory(bytes: Uint8Array): boolean {
  const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length);
  if (buffer.length < 22) return false;
  const floor = Math.max(0, buffer.length - (22 + 0xffff));
  for (
    let p = buffer.lastIndexOf('PK\x05\x06', buffer.length - 22, 'latin1');
    p >= floor;
    p = buffer.lastIndexOf('PK\x05\x06', p - 1, 'latin1')
  ) {
    const directorySize = buffer.readUInt32LE(p + 12);
    const directoryStart = p - directorySize;
    if (directorySize > 0 && directoryStart >= 0 && buffer.toString('latin1', directoryStart, directoryStart + 4) === 'PK\x01\x02')
      return true;
    if (p === 0) break;
  }
  return false;
}

export type TrailerVerdict = { harmless: true; kind: string } | { harmless: false; kind: string };

/**
 * Bytes after the image's end. Cameras write some there (a motion photo's video, the second JPEG
 * of a multi-picture or gain-map photo, padding, maker data); those are cut off. Archives,
 * documents, programs and text (a script, a page) are not a camera's and make the file a polyglot.
 */
export function judgeTrailer(trailer: Uint8Array): TrailerVerdict {
  if (trailer.every((b) => b === 0x00 || b === 0xff)) return { harmless: true, kind: 'padding' };
  const foreign = foreignFormat(trailer);
  if (foreign) return { harmless: false, kind: foreign };
  if (trailer[0] === 0xff && trailer[1] === 0xd8 && trailer[2] === 0xff)
    return { harmless: true, kind: 'a second JPEG (multi-picture or gain map)' };
  if (latin1(trailer, 4, 8) === 'ftyp') return { harmless: true, kind: 'a video (motion photo)' };
  const sample = trailer.subarray(0, 1024);
  const printable = sample.reduce((n, b) => n + (b === 0x09 || b === 0x0a || b === 0x0d || (b >= 0x20 && b < 0x7f) ? 1 : 0), 0);
  if (printable >= sample.length * 0.95) return { harmless: false, kind: 'text (a script or a document)' };
  return { harmless: true, kind: 'binary data' };
}
