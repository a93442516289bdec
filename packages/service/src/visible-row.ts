import { notFound, type Principal } from '@media/core';
import type { MediaRow } from '@media/db';
import type { MediaRows } from './ports';

/** The caller's school's live row, or NOT_FOUND: another school's item and a deleted one are never found. */
export async function visibleRow(deps: { media: Pick<MediaRows, 'findInTenant'> }, principal: Principal, id: string): Promise<MediaRow> {
  const row = await deps.media.findInTenant(principal.tenant, id);
  if (!row) throw notFound('media');
  return row;
}
