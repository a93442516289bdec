/**
 * The two things the service still takes from an EXIF block: when the photo was taken (kept in the
 * record, attendance audits need it) and its orientation (kept in the stored original, so that it
 * still shows upright). Everything else in the block (GPS, camera, owner, maker notes, thumbnail)
 * is dropped with it.
 */

/** Most entries an IFD may claim before it is taken for garbage (cameras write a few dozen). */
const MAX_ENTRIES = 1000;

const TAG_EXIF_IFD = 0x8769;
const TAG_DATE_TIME_ORIGINAL = 0x9003;
const TAG_OFFSET_TIME_ORIGINAL = 0x9011;
const TAG_SUBSEC_TIME_ORIGINAL = 0x9291;
const TAG_ORIENTATION = 0x0112;
const TYPE_ASCII = 2;
const TYPE_SHORT = 3;
const TYPE_LONG = 4;
const TYPE_IFD = 13;

interface Tiff {
  bytes: Uint8Array;
  u16: (at: number) => number;
  u32: (at: number) => number;
}

/** The TIFF structure inside an EXIF block, with or without the `Exif\0\0` prefix JPEG puts before it. */
function tiffOf(block: Uint8Array): Tiff | null {
  const start = block.length >= 6 && Buffer.from(block.subarray(0, 6)).toString('latin1') === 'Exif\0\0' ? 6 : 0;
  const bytes = block.subarray(start);
  if (bytes.length < 8) return null;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.length);
  const order = String.fromCharCode(bytes[0]!, bytes[1]!);
  if (order !== 'II' && order !== 'MM') return null;
  const little = order === 'II';
  const tiff: Tiff = {
    bytes,
    u16: (at) => (at >= 0 && at + 2 <= bytes.length ? view.getUint16(at, little) : -1),
    u32: (at) => (at >= 0 && at + 4 <= bytes.length ? view.getUint32(at, little) : -1),
  };
  return tiff.u16(2) === 42 ? tiff : null;
}

/** The entries of the IFD at `offset`, each as its tag, type, count and where its value lies. */
function* entries(tiff: Tiff, offset: number): Generator<{ tag: number; type: number; count: number; value: number }> {
  const count = tiff.u16(offset);
  if (count < 0 || count > MAX_ENTRIES) return;
  for (let i = 0; i < count; i++) {
    const at = offset + 2 + i * 12;
    if (at + 12 > tiff.bytes.length) return;
    const type = tiff.u16(at + 2);
    const n = tiff.u32(at + 4);
    const size = type === TYPE_ASCII ? n : type === TYPE_SHORT ? 2 * n : 4 * n;
    // A value of four bytes or fewer sits in the entry itself; a longer one is an offset away.
    yield { tag: tiff.u16(at), type, count: n, value: size <= 4 ? at + 8 : tiff.u32(at + 8) };
  }
}

function ascii(tiff: Tiff, entry: { type: number; count: number; value: number } | undefined): string | null {
  if (!entry || entry.type !== TYPE_ASCII || entry.value < 0 || entry.value + entry.count > tiff.bytes.length) return null;
  const text = Buffer.from(tiff.bytes.subarray(entry.value, entry.value + entry.count)).toString('latin1');
  return text.replace(/\0.*$/s, '').trim();
}

/**
 * When the photo was taken, from EXIF DateTimeOriginal: an ISO 8601 date-time with the camera's
 * UTC offset when OffsetTimeOriginal gives one (`2024-03-02T08:15:04+01:00`), or the camera's
 * local time without one (`2024-03-02T08:15:04`) — a zone the file does not name is not guessed.
 * Null when there is no EXIF, no such tag, or a value no calendar has (`0000:00:00 00:00:00`).
 */
export function captureTime(exif: Uint8Array | undefined): string | null {
  const tiff = exif ? tiffOf(exif) : null;
  if (!tiff) return null;
  const pointer = [...entries(tiff, tiff.u32(4))].find((e) => e.tag === TAG_EXIF_IFD && (e.type === TYPE_LONG || e.type === TYPE_IFD));
  if (!pointer) return null;
  const exifIfd = tiff.u32(pointer.value);
  const found = new Map([...entries(tiff, exifIfd)].map((e) => [e.tag, e] as const));
  const taken = /^(\d{4}):(\d{2}):(\d{2}) (\d{2}):(\d{2}):(\d{2})$/.exec(ascii(tiff, found.get(TAG_DATE_TIME_ORIGINAL)) ?? '');
  if (!taken) return null;
  const [year, month, day, hour, minute, second] = taken.slice(1).map(Number) as [number, number, number, number, number, number];
  const date = new Date(Date.UTC(year, month - 1, day, hour, minute, second));
  const real =
    year >= 1800 &&
    date.getUTCFullYear() === year &&
    date.getUTCMonth() === month - 1 &&
    date.getUTCDate() === day &&
    hour < 24 &&
    minute < 60 &&
    second < 60;
  if (!real) return null;
  const subsec = /^\d+$/.exec(ascii(tiff, found.get(TAG_SUBSEC_TIME_ORIGINAL)) ?? '')?.[0];
  const fraction = subsec ? `.${subsec.slice(0, 3).padEnd(3, '0')}` : '';
  const offset = /^[+-](?:0\d|1[0-4]):[0-5]\d$/.exec(ascii(tiff, found.get(TAG_OFFSET_TIME_ORIGINAL)) ?? '')?.[0] ?? '';
  return `${taken[1]}-${taken[2]}-${taken[3]}T${taken[4]}:${taken[5]}:${taken[6]}${fraction}${offset}`;
}

/**
 * An EXIF block (TIFF structure, big-endian) holding one tag, Orientation: what a stored original
 * keeps so that viewers and decoders still turn it upright. Without the `Exif\0\0` prefix; JPEG
 * adds it in its APP1 segment, PNG's eXIf and WebP's EXIF chunks take the bare structure.
 */
export function orientationOnlyExif(orientation: number): Buffer {
  const block = Buffer.alloc(26);
  block.write('MM', 0, 'latin1');
  block.writeUInt16BE(42, 2);
  block.writeUInt32BE(8, 4); // IFD0 right after the header
  block.writeUInt16BE(1, 8); // one entry
  block.writeUInt16BE(TAG_ORIENTATION, 10);
  block.writeUInt16BE(TYPE_SHORT, 12);
  block.writeUInt32BE(1, 14);
  block.writeUInt16BE(orientation, 18);
  block.writeUInt32BE(0, 22); // no next IFD: no thumbnail
  return block;
}
