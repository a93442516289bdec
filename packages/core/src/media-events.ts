import type { Purpose } from './purposes';

/**
 * Outbound events for other services (AI, attendance, user). They carry keys, never URLs:
 * a consumer asks for a URL with its own identity when it needs the bytes.
 */
export interface MediaEvent {
  /** Stable for one state change, so consumers can de-duplicate redeliveries. */
  eventId: string;
  type: 'media.ready' | 'media.rejected' | 'media.deleted';
  occurredAt: string;
  tenant: string;
  mediaId: string;
  purpose: Purpose;
  subjectId: string | null;
  classroomId: string | null;
  contentType?: string;
  width?: number | null;
  height?: number | null;
  sha256?: string | null;
  variants?: { name: string; key: string; format: string; width: number; height: number; size: number }[];
  rejection?: { code: string; detail: string };
}

export const mediaEventId = (type: MediaEvent['type'], mediaId: string) => `${type}:${mediaId}`;

/**
 * The counts-level cut of an event (analytics): what happened to which purpose and how big, with
 * no subject, classroom, key or rejection detail.
 */
export interface MediaCountEvent {
  eventId: string;
  type: MediaEvent['type'];
  occurredAt: string;
  tenant: string;
  mediaId: string;
  purpose: Purpose;
  /** media.ready: the validated original's type and bytes. */
  contentType?: string;
  size?: number;
  /** media.rejected: the reason's code. */
  rejectionCode?: string;
}

export function countsOf(event: MediaEvent): MediaCountEvent {
  const { eventId, type, occurredAt, tenant, mediaId, purpose } = event;
  const counts: MediaCountEvent = { eventId, type, occurredAt, tenant, mediaId, purpose };
  if (type === 'media.ready') {
    const original = event.variants?.find((v) => v.name === 'original');
    if (event.contentType) counts.contentType = event.contentType;
    if (original) counts.size = original.size;
  }
  if (type === 'media.rejected' && event.rejection) counts.rejectionCode = event.rejection.code;
  return counts;
}

/**
 * Events about a person rather than one item: their consent changed (a withdrawal means: forget
 * what you derived from their photos for that use), or everything about them was erased. They go
 * to the services that may read profiles throughout the school (ai-service, user-service), with
 * the person's id and nothing else about them.
 */
export interface SubjectEvent {
  eventId: string;
  type: 'subject.consent-changed' | 'subject.erased';
  occurredAt: string;
  tenant: string;
  subjectId: string;
  /** subject.consent-changed: the consent now in force. */
  recognition?: boolean;
  training?: boolean;
}

export type OutboundEvent = MediaEvent | SubjectEvent;

export const isSubjectEvent = (event: OutboundEvent): event is SubjectEvent => event.type.startsWith('subject.');
