import { MediaError } from './errors';
import { SERVICES } from './principal';

/**
 * Subjects are the people a photo shows (docs/privacy.md). Only people: a service, or a name the
 * service itself acts under, is never what a photo is about, so it can be neither tagged nor
 * erased, exported or asked for consent as a subject.
 */
const NOT_PEOPLE: ReadonlySet<string> = new Set<string>([...SERVICES, 'retention', 'system']);

export const isPersonId = (id: string): boolean => !NOT_PEOPLE.has(id);

/** Refuses (400 INVALID_SUBJECT) an id that names no person. */
export function requirePerson(id: string): string {
  if (!isPersonId(id)) throw new MediaError('INVALID_SUBJECT', `${id} is not a person; only people can be the subject of media.`);
  return id;
}

/**
 * The people an upload request names: `subjectIds` in order (repeats dropped), or `subjectId`
 * alone; both sent, the first of the list must be `subjectId` (400). None named: an empty list,
 * never the uploader.
 */
export function subjectIdsOf(request: { subjectId?: string; subjectIds?: string[] }): string[] {
  const ids = request.subjectIds ? [...new Set(request.subjectIds)] : request.subjectId ? [request.subjectId] : [];
  if (request.subjectIds && request.subjectId !== undefined && ids[0] !== request.subjectId) {
    throw new MediaError('VALIDATION_FAILED', 'subjectId, when sent with subjectIds, must be the first of them.', {
      issues: [{ path: 'body.subjectId', message: 'must equal subjectIds[0]' }],
    });
  }
  return ids.map(requirePerson);
}
