import { describe, expect, it } from 'vitest';
import {
  authorizeUpload,
  authorizeUsage,
  type MediaError,
  readScopeOf,
  relationsOf,
  rightsScopeOf,
  type Principal,
  type Subject,
} from '@media/core';

/**
 * Relations below the token check: even a principal the token verifier would refuse (a person
 * carrying a service's name) never stands in a service's place.
 */
const item = (over: Partial<Subject> = {}): Subject => ({
  tenant: 'school-1',
  purpose: 'profile',
  subjectIds: ['pupil-7'],
  classroomId: null,
  uploadedBy: 'user-service',
  ...over,
});
const person = (role: 'student' | 'teacher' | 'admin', sub: string): Principal => ({ role, sub, tenant: 'school-1', classrooms: [] });
const service = (sub: 'ai-service' | 'attendance-service' | 'user-service' | 'analytics-service'): Principal => ({
  role: 'service',
  sub,
  tenant: 'school-1',
  classrooms: [],
});

const refusal = (work: () => void) => {
  try {
    work();
  } catch (error) {
    return { code: (error as MediaError).code, detail: (error as MediaError).message };
  }
  return null;
};

describe('relations compare the kind of principal as well as its id', () => {
  it('gives a person named like a service no uploader relation to what the service uploaded', () => {
    expect(relationsOf(person('student', 'user-service'), item())).toEqual(['tenant']);
    expect(relationsOf(person('teacher', 'ai-service'), item({ purpose: 'training', uploadedBy: 'ai-service' }))).toEqual(['tenant']);
  });

  it('gives the service itself the uploader relation', () => {
    expect(relationsOf(service('user-service'), item())).toEqual(['tenant', 'uploader', 'self', 'alone']);
  });

  it('never makes a service the subject of an item: subjects are people', () => {
    expect(relationsOf(service('ai-service'), item({ subjectIds: ['ai-service'], uploadedBy: 'admin-1' }))).toEqual(['tenant']);
    expect(relationsOf(person('student', 'pupil-7'), item({ uploadedBy: 'admin-1' }))).toEqual(['tenant', 'self', 'alone']);
  });

  it('makes a pupil named beside other children about the photo, not its only subject', () => {
    const shared = item({ subjectIds: ['pupil-7', 'pupil-8'], uploadedBy: 'admin-1' });
    expect(relationsOf(person('student', 'pupil-7'), shared)).toEqual(['tenant', 'self']);
  });

  it('passes the kind to list queries', () => {
    expect(readScopeOf(person('student', 'pupil-7')).kind).toBe('human');
    expect(readScopeOf(service('user-service')).kind).toBe('service');
  });
});

describe('subjects on attendance uploads', () => {
  const teacher: Principal = { role: 'teacher', sub: 't-1', tenant: 'school-1', classrooms: ['room-1'] };
  const attendance = (subjectId: string | null) => ({
    purpose: 'attendance' as const,
    subjectIds: subjectId ? [subjectId] : [],
    classroomId: 'room-1',
  });

  it('lets a teacher photograph their classroom without naming anyone', () => {
    expect(refusal(() => authorizeUpload(teacher, attendance(null)))).toBeNull();
  });

  it('refuses a teacher naming a subject, themselves included, and says who may', () => {
    for (const subjectId of ['pupil-7', 't-1']) {
      const answer = refusal(() => authorizeUpload(teacher, attendance(subjectId)));
      expect(answer?.code).toBe('FORBIDDEN');
      expect(answer?.detail).toMatch(/administrators and attendance-service/);
    }
  });

  it('lets admins and attendance-service tag subjects', () => {
    expect(refusal(() => authorizeUpload(person('admin', 'admin-1'), attendance('pupil-7')))).toBeNull();
    expect(refusal(() => authorizeUpload(service('attendance-service'), attendance('pupil-7')))).toBeNull();
  });
});

describe('several subjects on one item', () => {
  const classPhoto = item({ purpose: 'general', subjectIds: ['pupil-1', 'pupil-2', 'pupil-3'], uploadedBy: 'admin-1' });

  it('relates each person the item names to it as themself, and no one else', () => {
    for (const pupil of ['pupil-1', 'pupil-2', 'pupil-3'])
      expect(relationsOf(person('student', pupil), classPhoto)).toEqual(['tenant', 'self']);
    expect(relationsOf(person('student', 'pupil-4'), classPhoto)).toEqual(['tenant']);
  });

  it('lets a student tag only themself, every subject checked on its own', () => {
    const student = person('student', 'pupil-1');
    const general = (subjectIds: string[]) => ({ purpose: 'general' as const, subjectIds, classroomId: null });
    expect(refusal(() => authorizeUpload(student, general(['pupil-1'])))).toBeNull();
    expect(refusal(() => authorizeUpload(student, general([])))).toBeNull();
    expect(refusal(() => authorizeUpload(student, general(['pupil-1', 'pupil-2'])))?.code).toBe('FORBIDDEN');
    expect(refusal(() => authorizeUpload(person('admin', 'admin-1'), general(['pupil-1', 'pupil-2'])))).toBeNull();
  });
});

describe('usage figures', () => {
  it('gives services counts per purpose only, never per subject (COUNTS_ONLY); administrators both', () => {
    expect(refusal(() => authorizeUsage(service('analytics-service'), 'purpose'))).toBeNull();
    expect(refusal(() => authorizeUsage(service('analytics-service'), 'subject'))?.code).toBe('COUNTS_ONLY');
    expect(refusal(() => authorizeUsage(person('admin', 'admin-1'), 'subject'))).toBeNull();
    expect(refusal(() => authorizeUsage(person('teacher', 't-1'), 'purpose'))?.code).toBe('FORBIDDEN');
  });
});

describe('the scope of erasures and exports', () => {
  it('is what the requester may read throughout the school: everything for admins, profiles for user-service', () => {
    expect(rightsScopeOf(person('admin', 'admin-1'))).toEqual(['profile', 'attendance', 'training', 'general']);
    expect(rightsScopeOf(service('user-service'))).toEqual(['profile']);
  });
});
