import { isPersonId } from '@media/core';
import type { Consent, MediaRow } from '@media/db';

/**
 * Whether an item's faces may serve recognition (docs/privacy.md § Faces): the aligned crops
 * exist, and `faces` is shown to the AI service, only then.
 *
 * - An attendance photo, in a school whose admin enabled recognition for attendance: yes.
 * - Otherwise, every person the item names consented to recognition (and, for a training photo,
 *   to training). An item naming nobody has nobody's consent: its faces are strangers'.
 */
export function recognitionAllowed(
  row: Pick<MediaRow, 'purpose' | 'subjectIds'>,
  consents: ReadonlyMap<string, Pick<Consent, 'recognition' | 'training'>>,
  recognitionForAttendance: boolean,
): boolean {
  if (row.purpose === 'attendance' && recognitionForAttendance) return true;
  const people = row.subjectIds.filter(isPersonId);
  if (people.length === 0) return false;
  if (people.some((id) => !consents.get(id)?.recognition)) return false;
  if (row.purpose === 'training' && people.some((id) => !consents.get(id)?.training)) return false;
  return true;
}

/** The people whose consent decides an item's crops: those it names. */
export const peopleNamedBy = (row: Pick<MediaRow, 'subjectIds'>): string[] => row.subjectIds.filter(isPersonId);
