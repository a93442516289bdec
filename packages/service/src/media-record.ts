import type { MediaRecord } from '@media/core';
import type { RecordRow } from '@media/db';

const iso = (value: Date | string | null): string | null =>
  value === null ? null : (value instanceof Date ? value : new Date(value)).toISOString();

/** The public shape of a row (docs/architecture.md § Contract): storage keys and processing internals stay inside. */
export function toMediaRecord(row: RecordRow): MediaRecord {
  const record: MediaRecord = {
    id: row.id,
    tenant: row.tenant,
    purpose: row.purpose,
    status: row.status,
    subjectId: row.subjectIds[0] ?? null,
    subjectIds: row.subjectIds,
    classroomId: row.classroomId,
    uploadedBy: row.uploadedBy,
    contentType: row.contentType,
    size: row.size,
    width: row.width,
    height: row.height,
    sha256: row.sha256,
    capturedAt: row.capturedAt,
    filename: row.filename,
    kind: row.kind,
    durationSeconds: row.durationSeconds,
    placeholder: row.placeholder,
    createdAt: iso(row.createdAt)!,
    processedAt: iso(row.processedAt),
    legalHold: row.legalHold,
    variants: (row.variants ?? []).map(({ name, format, width, height, size }) => ({ name, format, width, height, size })),
  };
  if (row.status === 'rejected' && row.rejectionCode) {
    record.rejection = { code: row.rejectionCode, detail: row.rejectionDetail ?? '' };
  }
  return record;
}
