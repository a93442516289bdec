/**
 * An AVIF or a HEIC without its metadata, the coded image data untouched. Both are HEIF, an ISOBMFF
 * file (AV1 or HEVC inside), so one rewrite serves both: a `meta`
 * box describes items (the image, its alpha or gain map, and metadata items: EXIF, XMP as a
 * `mime` item, URIs), where each item's bytes lie (`iloc`, usually in `mdat`), how items refer to
 * each other (`iref`) and which properties each has (`iprp`). Here the `meta` box is written anew
 * without the metadata items and their references, the free-text names (item names, the handler
 * name) emptied and a `udes` user-description or unknown property blanked, and the metadata
 * items' bytes, and any bytes of `mdat` or `idat` that no image item uses, overwritten with zeros
 * where they lie. A `free` box after `meta` takes up the bytes it lost, so every offset into
 * `mdat` still points where it did and the image decodes the same. `free`, `skip` and unknown
 * top-level boxes become `free` boxes of zeros.
 *
 * Returns null for a file whose structure this does not cover (an image sequence, an item stored
 * in another file or by reference to another item, old `infe` versions, data shared between a
 * metadata item and an image item): the caller then re-encodes it.
 */

/** Item types that are image data (AV1, HEVC, grids, overlays…); every other item (Exif, mime, uri…) is metadata and goes. */
const IMAGE_ITEMS = new Set(['av01', 'grid', 'iovl', 'iden', 'tmap', 'hvc1', 'mski', 'unci', 'jpeg']);
/** Properties that say how to decode or show the image; any other is blanked. */
const IMAGE_PROPERTIES = new Set([
  'av1C',
  'colr',
  'ispe',
  'pixi',
  'irot',
  'imir',
  'clap',
  'pasp',
  'auxC',
  'clli',
  'mdcv',
  'cclv',
  'amve',
  'a1op',
  'a1lx',
  'lsel',
  'rloc',
  'hvcC',
  'uncC',
  'cmpd',
  'free',
]);
const KEPT_TOP_LEVEL = new Set(['ftyp', 'mdat']);

interface Box {
  type: string;
  start: number;
  /** Where the payload starts (after size, type and any 64-bit size). */
  body: number;
  end: number;
}

class Unsupported extends Error {}

function* boxes(b: Buffer, start: number, end: number): Generator<Box> {
  let i = start;
  while (i + 8 <= end) {
    let size = b.readUInt32BE(i);
    let body = i + 8;
    if (size === 1) {
      if (i + 16 > end) throw new Unsupported();
      size = Number(b.readBigUInt64BE(i + 8));
      body = i + 16;
    } else if (size === 0) {
      size = end - i;
    }
    if (size < body - i || i + size > end) throw new Unsupported();
    yield { type: b.toString('latin1', i + 4, i + 8), start: i, body, end: i + size };
    i += size;
  }
  if (i !== end) throw new Unsupported();
}

function box(type: string, ...parts: Uint8Array[]): Buffer {
  const payload = Buffer.concat(parts);
  const head = Buffer.alloc(8);
  head.writeUInt32BE(8 + payload.length);
  head.write(type, 4, 'latin1');
  return Buffer.concat([head, payload]);
}

const uint = (b: Buffer, at: number, size: number): number => {
  if (size === 0) return 0;
  if (size === 2) return b.readUInt16BE(at);
  if (size === 4) return b.readUInt32BE(at);
  if (size === 8) return Number(b.readBigUInt64BE(at));
  throw new Unsupported();
};

interface Located {
  id: number;
  record: Buffer;
  method: number;
  extents: { offset: number; length: number }[];
}

/** `iloc`: where each item's bytes are, with each item's record kept raw for rewriting. */
function parseIloc(b: Buffer, x: Box): { header: Buffer; items: Located[]; idSize: number } {
  const version = b[x.body]!;
  if (version > 2) throw new Unsupported();
  const offsetSize = b[x.body + 4]! >> 4;
  const lengthSize = b[x.body + 4]! & 15;
  const baseSize = b[x.body + 5]! >> 4;
  const indexSize = version >= 1 ? b[x.body + 5]! & 15 : 0;
  const idSize = version < 2 ? 2 : 4;
  let i = x.body + 6;
  const count = uint(b, i, idSize);
  i += idSize;
  const header = b.subarray(x.body, x.body + 6);
  const items: Located[] = [];
  for (let n = 0; n < count; n++) {
    const from = i;
    const id = uint(b, i, idSize);
    i += idSize;
    let method = 0;
    if (version >= 1) {
      method = b.readUInt16BE(i) & 15;
      i += 2;
    }
    const reference = b.readUInt16BE(i);
    i += 2;
    if (reference !== 0) throw new Unsupported(); // bytes in another file
    const base = uint(b, i, baseSize);
    i += baseSize;
    const extentCount = b.readUInt16BE(i);
    i += 2;
    const extents = [];
    for (let e = 0; e < extentCount; e++) {
      i += indexSize;
      const offset = uint(b, i, offsetSize);
      i += offsetSize;
      const length = uint(b, i, lengthSize);
      i += lengthSize;
      extents.push({ offset: base + offset, length });
    }
    if (i > x.end) throw new Unsupported();
    items.push({ id, record: b.subarray(from, i), method, extents });
  }
  return { header, items, idSize };
}

/** `infe` entries (version 2 and 3): each item's id and type. */
function parseIinf(b: Buffer, x: Box): { version: number; entries: { id: number; type: string; infe: Box; version: number }[] } {
  const version = b[x.body]!;
  const countSize = version === 0 ? 2 : 4;
  const entries = [];
  for (const infe of boxes(b, x.body + 4 + countSize, x.end)) {
    if (infe.type !== 'infe') continue;
    const v = b[infe.body]!;
    if (v < 2) throw new Unsupported();
    const id = v === 2 ? b.readUInt16BE(infe.body + 4) : b.readUInt32BE(infe.body + 4);
    const typeAt = infe.body + 4 + (v === 2 ? 2 : 4) + 2;
    entries.push({ id, type: b.toString('latin1', typeAt, typeAt + 4), infe, version: v });
  }
  return { version, entries };
}

/** An `infe` for a kept item: version, flags, id, protection index and type as they were, an empty name. */
function emptiedInfe(b: Buffer, infe: Box, version: number): Buffer {
  const fixed = 4 + (version === 2 ? 2 : 4) + 2 + 4;
  return box('infe', b.subarray(infe.body, infe.body + fixed), Buffer.from([0]));
}

function rewriteIref(b: Buffer, x: Box, dropped: Set<number>): Buffer | null {
  const idSize = b[x.body]! === 0 ? 2 : 4;
  const kept: Buffer[] = [];
  for (const ref of boxes(b, x.body + 4, x.end)) {
    const from = uint(b, ref.body, idSize);
    const count = b.readUInt16BE(ref.body + idSize);
    const to: number[] = [];
    for (let n = 0; n < count; n++) to.push(uint(b, ref.body + idSize + 2 + n * idSize, idSize));
    const left = to.filter((id) => !dropped.has(id));
    if (dropped.has(from) || left.length === 0) continue;
    const body = Buffer.alloc(idSize * (1 + left.length) + 2);
    const put = (value: number, at: number) => (idSize === 2 ? body.writeUInt16BE(value, at) : body.writeUInt32BE(value, at));
    put(from, 0);
    body.writeUInt16BE(left.length, idSize);
    for (const [n, id] of left.entries()) put(id, idSize + 2 + n * idSize);
    kept.push(box(ref.type, body));
  }
  return kept.length ? box('iref', b.subarray(x.body, x.body + 4), ...kept) : null;
}

function rewriteIprp(b: Buffer, x: Box, dropped: Set<number>): Buffer {
  const parts: Buffer[] = [];
  for (const child of boxes(b, x.body, x.end)) {
    if (child.type === 'ipco') {
      const properties = [...boxes(b, child.body, child.end)].map((p) =>
        // Blanked, not removed: associations count properties by their position.
        IMAGE_PROPERTIES.has(p.type) ? b.subarray(p.start, p.end) : box('free', Buffer.alloc(p.end - p.body)),
      );
      parts.push(box('ipco', ...properties));
    } else if (child.type === 'ipma') {
      const version = b[child.body]!;
      const wide = (b.readUInt32BE(child.body) & 1) === 1;
      const idSize = version < 1 ? 2 : 4;
      let i = child.body + 8;
      const entries: Buffer[] = [];
      for (let n = b.readUInt32BE(child.body + 4); n > 0; n--) {
        const id = uint(b, i, idSize);
        const end = i + idSize + 1 + b[i + idSize]! * (wide ? 2 : 1);
        if (!dropped.has(id)) entries.push(b.subarray(i, end));
        i = end;
      }
      const count = Buffer.alloc(4);
      count.writeUInt32BE(entries.length);
      parts.push(box('ipma', b.subarray(child.body, child.body + 4), count, ...entries));
    }
  }
  return box('iprp', ...parts);
}

/** Returns null when the file's structure is not one this covers (see above). */
export function removeHeifMetadata(heif: Uint8Array): Buffer | null {
  try {
    return rewrite(Buffer.from(heif));
  } catch (error) {
    if (error instanceof Unsupported || error instanceof RangeError) return null;
    throw error;
  }
}

function rewrite(b: Buffer): Buffer {
  const top = [...boxes(b, 0, b.length)];
  const metas = top.filter((x) => x.type === 'meta');
  if (metas.length !== 1 || top.some((x) => x.type === 'moov')) throw new Unsupported();
  const meta = metas[0]!;
  const children = [...boxes(b, meta.body + 4, meta.end)];
  const find = (type: string) => children.find((c) => c.type === type);
  const ilocBox = find('iloc');
  const iinfBox = find('iinf');
  const pitm = find('pitm');
  if (!ilocBox || !iinfBox || !pitm) throw new Unsupported();

  const iloc = parseIloc(b, ilocBox);
  const iinf = parseIinf(b, iinfBox);
  const primary = b[pitm.body]! === 0 ? b.readUInt16BE(pitm.body + 4) : b.readUInt32BE(pitm.body + 4);
  const dropped = new Set(iinf.entries.filter((e) => !IMAGE_ITEMS.has(e.type)).map((e) => e.id));
  if (dropped.has(primary)) throw new Unsupported();

  // The metadata items' bytes become zeros where they lie, unless they share bytes with the image.
  const idat = find('idat');
  const spans = (item: Located) =>
    item.extents.map(({ offset, length }) => {
      // In the file (method 0): it must lie outside meta, whose bytes move. In idat (method 1): inside it.
      if (item.method === 0) {
        const span = { from: offset, to: length === 0 ? b.length : offset + length };
        if (span.to > b.length || (span.from < meta.end && span.to > meta.start)) throw new Unsupported();
        return span;
      }
      if (item.method === 1 && idat) {
        const span = { from: idat.body + offset, to: length === 0 ? idat.end : idat.body + offset + length };
        if (span.to > idat.end) throw new Unsupported();
        return span;
      }
      throw new Unsupported();
    });
  const keptSpans = iloc.items.filter((item) => !dropped.has(item.id)).flatMap(spans);
  const droppedSpans = iloc.items.filter((item) => dropped.has(item.id)).flatMap(spans);
  for (const d of droppedSpans) if (keptSpans.some((k) => k.from < d.to && d.from < k.to)) throw new Unsupported();
  // Of the data boxes only what the image items use is kept; the rest (the metadata items' bytes,
  // and any bytes no item points at) becomes zeros where it lies.
  const out = Buffer.from(b);
  for (const data of [...top.filter((x) => x.type === 'mdat'), ...(idat ? [idat] : [])]) {
    let from = data.body;
    for (const span of keptSpans.filter((k) => k.to > data.body && k.from < data.end).sort((p, q) => p.from - q.from)) {
      if (span.from > from) out.fill(0, from, span.from);
      from = Math.max(from, span.to);
    }
    if (from < data.end) out.fill(0, from, data.end);
  }
  for (const d of droppedSpans) out.fill(0, d.from, d.to);

  const parts: Buffer[] = [];
  for (const child of children) {
    switch (child.type) {
      case 'hdlr': // pre_defined, handler type and reserved; the name (free text) emptied
        parts.push(box('hdlr', out.subarray(child.body, child.body + 24), Buffer.from([0])));
        break;
      case 'pitm':
      case 'dinf':
      case 'grpl':
      case 'idat':
        parts.push(out.subarray(child.start, child.end));
        break;
      case 'iloc': {
        const kept = iloc.items.filter((item) => !dropped.has(item.id));
        const count = Buffer.alloc(iloc.idSize);
        if (iloc.idSize === 2) count.writeUInt16BE(kept.length);
        else count.writeUInt32BE(kept.length);
        parts.push(box('iloc', iloc.header, count, ...kept.map((item) => item.record)));
        break;
      }
      case 'iinf': {
        const kept = iinf.entries.filter((e) => !dropped.has(e.id));
        const count = Buffer.alloc(iinf.version === 0 ? 2 : 4);
        if (iinf.version === 0) count.writeUInt16BE(kept.length);
        else count.writeUInt32BE(kept.length);
        parts.push(box('iinf', out.subarray(child.body, child.body + 4), count, ...kept.map((e) => emptiedInfe(out, e.infe, e.version))));
        break;
      }
      case 'iref': {
        const iref = rewriteIref(out, child, dropped);
        if (iref) parts.push(iref);
        break;
      }
      case 'iprp':
        parts.push(rewriteIprp(out, child, dropped));
        break;
      // Anything else in meta (xml, bxml, ipro, udta…) is left out.
    }
  }
  let newMeta = box('meta', out.subarray(meta.body, meta.body + 4), ...parts);
  const lost = meta.end - meta.start - newMeta.length;
  if (lost < 0) throw new Unsupported();
  if (lost > 0 && lost < 8) {
    // Too few bytes for a free box: they pad the handler's (empty) name instead.
    const hdlr = parts.findIndex((p) => p.toString('latin1', 4, 8) === 'hdlr');
    if (hdlr === -1) throw new Unsupported();
    parts[hdlr] = Buffer.concat([parts[hdlr]!, Buffer.alloc(lost)]);
    parts[hdlr]!.writeUInt32BE(parts[hdlr]!.length);
    newMeta = box('meta', out.subarray(meta.body, meta.body + 4), ...parts);
  }
  const padding = meta.end - meta.start - newMeta.length;

  return Buffer.concat(
    top.map((x) => {
      if (x === meta) return padding > 0 ? Buffer.concat([newMeta, box('free', Buffer.alloc(padding - 8))]) : newMeta;
      if (KEPT_TOP_LEVEL.has(x.type)) return out.subarray(x.start, x.end);
      return box('free', Buffer.alloc(x.end - x.start - 8)); // free, skip and unknown boxes: same length, nothing in it
    }),
  );
}
