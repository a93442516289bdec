import type { Purpose } from './purposes';

/**
 * Outbound events for other services (AI, attendance, analytics). They carry keys, never URLs:
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
