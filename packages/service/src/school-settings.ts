import { authorizeRight, type Principal, type SchoolSettings, type SchoolSettingsBody } from '@media/core';
import type { SchoolSettingsRow } from '@media/db';
import type { Dependencies } from './dependencies';
import { grantAttendanceCrops, revokeAttendanceCrops } from './face-access';

type Deps = Pick<Dependencies, 'faces' | 'rights' | 'storage'> & Partial<Pick<Dependencies, 'edge' | 'faceQueue'>>;

const settingsOf = (row: SchoolSettingsRow | undefined): SchoolSettings => ({
  recognitionForAttendance: row?.recognitionForAttendance ?? false,
  updatedAt: row ? new Date(row.updatedAt).toISOString() : null,
  updatedBy: row?.updatedBy ?? null,
});

/** The school's settings (administrators). */
export async function getSchoolSettings(deps: Pick<Deps, 'faces'>, principal: Principal): Promise<SchoolSettings> {
  authorizeRight(principal, 'settings');
  return settingsOf(await deps.faces.schoolSettings(principal.tenant));
}

/**
 * Records the school's settings with an audit row (administrators). Turning recognition for
 * attendance off removes the crops of the attendance photos whose subjects' consent does not allow
 * them, as a withdrawal does; turning it on sends the attendance photos whose faces were found
 * without crops back to the face stage. Sending the same settings again finishes either.
 */
export async function setSchoolSettings(
  deps: Deps,
  principal: Principal,
  body: SchoolSettingsBody,
  requestId?: string,
): Promise<SchoolSettings> {
  authorizeRight(principal, 'settings');
  const row = await deps.faces.setRecognitionForAttendance(principal.tenant, body.recognitionForAttendance, principal.sub, {
    tenant: principal.tenant,
    actor: principal.sub,
    actorRole: principal.role === 'service' ? 'service' : principal.role,
    action: 'setting',
    mediaId: null,
    subjectId: null,
    variant: null,
    requestId: requestId ?? null,
  });
  if (!body.recognitionForAttendance) await revokeAttendanceCrops(deps, principal.tenant);
  else await grantAttendanceCrops(deps, principal.tenant);
  return settingsOf(row);
}
