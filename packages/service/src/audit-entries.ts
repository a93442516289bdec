import type { AuditAction, DownloadVariant, Principal } from '@media/core';
import type { MediaRow, NewAuditEntry } from '@media/db';

/** Who acted and in which request: what every audit row carries. */
const actorOf = (principal: Principal, requestId: string | undefined) => ({
  tenant: principal.tenant,
  actor: principal.sub,
  actorRole: principal.role,
  requestId: requestId ?? null,
});

/** An action on an item (a download, a delete, a hold), for the audit log. */
export const auditEntryOf = (
  principal: Principal,
  requestId: string | undefined,
  action: AuditAction,
  row: Pick<MediaRow, 'id' | 'subjectId'>,
  variant: DownloadVariant | null = null,
): NewAuditEntry => ({ ...actorOf(principal, requestId), action, mediaId: row.id, subjectId: row.subjectId, variant });

/** An action on a person (consent, erasure, export): no item named. */
export const subjectAuditOf = (
  principal: Principal,
  requestId: string | undefined,
  action: AuditAction,
  subjectId: string,
): NewAuditEntry => ({ ...actorOf(principal, requestId), action, mediaId: null, subjectId, variant: null });
