import { describe, expect, it } from 'vitest';
import { type MediaError, planUpload, type Principal, type Purpose } from '@media/core';

const teacher: Principal = { role: 'teacher', sub: 't-1', tenant: 'school-1', classrooms: ['c-1'] };

const codeOf = (fn: () => unknown) => {
  try {
    fn();
  } catch (error) {
    return (error as MediaError).code;
  }
  return 'none';
};

describe('planUpload', () => {
  it('names nobody when no subject is given (never the caller) and keeps a cleaned file name', () => {
    const plan = planUpload(teacher, { purpose: 'profile', contentType: 'image/JPG', size: 1000, filename: '../../etc/\u0000me.jpg' });
    expect(plan).toEqual({
      purpose: 'profile',
      contentType: 'image/jpeg',
      size: 1000,
      kind: 'image',
      multipart: false,
      subjectIds: [],
      classroomId: null,
      filename: 'me.jpg',
    });
  });

  it('accepts videos for general and attendance media only, up to the video limit, and in parts above the threshold', () => {
    const limits = { multipartThresholdBytes: 100 * 1024 * 1024, videoMaxBytes: 2 * 1024 ** 3 };
    expect(planUpload(teacher, { purpose: 'general', contentType: 'video/mp4', size: 1000 }, limits)).toMatchObject({
      kind: 'video',
      multipart: false,
    });
    expect(codeOf(() => planUpload(teacher, { purpose: 'profile', contentType: 'video/mp4', size: 1000 }, limits))).toBe(
      'UNSUPPORTED_MEDIA_TYPE',
    );
    expect(codeOf(() => planUpload(teacher, { purpose: 'general', contentType: 'video/webm', size: 200 * 1024 * 1024 }, limits))).toBe(
      'VALIDATION_FAILED',
    );
    expect(
      planUpload(teacher, { purpose: 'general', contentType: 'video/webm', size: 200 * 1024 * 1024, multipart: true }, limits).multipart,
    ).toBe(true);
    expect(
      codeOf(() =>
        planUpload(teacher, { purpose: 'general', contentType: 'video/quicktime', size: 2 * 1024 ** 3 + 1, multipart: true }, limits),
      ),
    ).toBe('PAYLOAD_TOO_LARGE');
  });

  it('accepts iPhone photos, image/heic and image/heif, for every purpose, as it accepts image/jpeg', () => {
    // By hand: every purpose takes JPEG, so every purpose takes HEIC and HEIF, each pinned as declared.
    const accepting: [Purpose, { classroomId?: string }][] = [
      ['profile', {}],
      ['attendance', { classroomId: 'c-1' }],
      ['training', {}],
      ['general', {}],
    ];
    for (const [purpose, extra] of accepting) {
      for (const contentType of ['image/jpeg', 'image/heic', 'image/heif']) {
        const plan = planUpload(teacher, { purpose, contentType, size: 1000, ...extra });
        expect(plan, `${purpose} ${contentType}`).toMatchObject({ contentType, kind: 'image' });
      }
    }
  });

  it('refuses a type the purpose does not accept with 415', () => {
    expect(codeOf(() => planUpload(teacher, { purpose: 'profile', contentType: 'image/svg+xml', size: 10 }))).toBe(
      'UNSUPPORTED_MEDIA_TYPE',
    );
    expect(codeOf(() => planUpload(teacher, { purpose: 'profile', contentType: 'image/tiff', size: 10 }))).toBe('UNSUPPORTED_MEDIA_TYPE');
  });

  it('refuses a declared size over the purpose limit with 413', () => {
    expect(codeOf(() => planUpload(teacher, { purpose: 'profile', contentType: 'image/jpeg', size: 16 * 1024 * 1024 }))).toBe(
      'PAYLOAD_TOO_LARGE',
    );
  });

  it('requires a classroom for attendance photos', () => {
    expect(codeOf(() => planUpload(teacher, { purpose: 'attendance', contentType: 'image/jpeg', size: 10 }))).toBe('VALIDATION_FAILED');
  });

  describe('subjects', () => {
    const photo = { purpose: 'general' as const, contentType: 'image/jpeg', size: 10 };

    it('takes every person a class photo names, in order, repeats dropped; subjectId alone is a list of one', () => {
      expect(planUpload(teacher, { ...photo, subjectIds: ['p-2', 'p-1', 'p-2'] }).subjectIds).toEqual(['p-2', 'p-1']);
      expect(planUpload(teacher, { ...photo, subjectId: 'p-1' }).subjectIds).toEqual(['p-1']);
      expect(planUpload(teacher, { ...photo, subjectId: 'p-1', subjectIds: ['p-1', 'p-3'] }).subjectIds).toEqual(['p-1', 'p-3']);
    });

    it('refuses subjectId and subjectIds that disagree on the first person (400)', () => {
      expect(codeOf(() => planUpload(teacher, { ...photo, subjectId: 'p-3', subjectIds: ['p-1', 'p-3'] }))).toBe('VALIDATION_FAILED');
      expect(codeOf(() => planUpload(teacher, { ...photo, subjectId: 'p-3', subjectIds: [] }))).toBe('VALIDATION_FAILED');
    });

    it('refuses a service, or a name the service acts under, as a subject (400 INVALID_SUBJECT)', () => {
      for (const id of ['attendance-service', 'ai-service', 'user-service', 'analytics-service', 'retention', 'system']) {
        expect(
          codeOf(() => planUpload(teacher, { ...photo, subjectId: id })),
          id,
        ).toBe('INVALID_SUBJECT');
        expect(
          codeOf(() => planUpload(teacher, { ...photo, subjectIds: ['p-1', id] })),
          id,
        ).toBe('INVALID_SUBJECT');
      }
    });
  });
});
