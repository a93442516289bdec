/**
 * Where objects live (docs/architecture.md § Keys). Keys are built from stored ids only; a user's file name is
 * metadata and never part of a key.
 */
const SEGMENT = /^[A-Za-z0-9._:@-]{1,128}$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

function segment(value: string): string {
  if (!SEGMENT.test(value) || value === '.' || value === '..') throw new Error(`unsafe key segment: ${value}`);
  return value;
}

export const incomingKey = (tenant: string, mediaId: string) => `incoming/${segment(tenant)}/${segment(mediaId)}`;
export const originalKey = (tenant: string, mediaId: string) => `originals/${segment(tenant)}/${segment(mediaId)}`;
export const derivativePrefix = (tenant: string, mediaId: string) => `derivatives/${segment(tenant)}/${segment(mediaId)}/`;
export const derivativeKey = (tenant: string, mediaId: string, variant: string, extension: string) =>
  `${derivativePrefix(tenant, mediaId)}${segment(variant)}.${segment(extension)}`;

/** Parses an `incoming/{tenant}/{mediaId}` key; anything else is not an upload of ours. */
export function parseIncomingKey(key: string): { tenant: string; mediaId: string } | null {
  const parts = key.split('/');
  if (parts.length !== 3 || parts[0] !== 'incoming') return null;
  const [, tenant, mediaId] = parts as [string, string, string];
  if (!SEGMENT.test(tenant) || !UUID.test(mediaId)) return null;
  return { tenant, mediaId };
}

/** A subject export's ZIP file: under `exports/`, which a lifecycle rule empties after 7 days. */
export const EXPORTS_PREFIX = 'exports/';
export const exportKey = (tenant: string, exportId: string) => `${EXPORTS_PREFIX}${segment(tenant)}/${segment(exportId)}.zip`;

/**
 * A video transform's outputs until the processor has read them: one folder per worker's lease,
 * removed once used, and emptied after a day by a lifecycle rule whatever happens.
 */
export const SCRATCH_PREFIX = 'scratch/';
export const scratchKey = (tenant: string, mediaId: string, owner: string, name: string) =>
  `${SCRATCH_PREFIX}${segment(tenant)}/${segment(mediaId)}/${segment(owner)}/${segment(name)}`;
