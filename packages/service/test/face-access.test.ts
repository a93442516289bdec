import { describe, expect, it } from 'vitest';
import type { Principal } from '@media/core';
import type { MediaFacesRow } from '@media/db';
import { authorizeFaceVariant, facesShownTo } from '../src/face-access';
import { recognitionAllowed } from '../src/face-consent';

const principal = (role: Principal['role'], sub: string, tenant = 'school-a') =>
  ({ role, sub, tenant, classrooms: [] }) as unknown as Principal;
const faces = {
  faces: [{ box: { x: 0, y: 0, width: 0.1, height: 0.1 }, landmarks: [], score: 0.9, quality: { templateError: 1, poor: false } }],
} as unknown as MediaFacesRow;
const yes = { recognition: true, training: true };
const recognitionOnly = { recognition: true, training: false };

describe('who may use the faces of an item', () => {
  // Written by hand from docs/privacy.md § Faces, not derived from the code.
  it.each([
    ['a general photo naming nobody', { purpose: 'general', subjectIds: [] }, {}, false, false],
    ['a photo whose one subject consented', { purpose: 'general', subjectIds: ['s1'] }, { s1: yes }, false, true],
    ['a class photo where one of two did not consent', { purpose: 'general', subjectIds: ['s1', 's2'] }, { s1: yes }, false, false],
    [
      'a training photo whose subject consented to recognition only',
      { purpose: 'training', subjectIds: ['s1'] },
      { s1: recognitionOnly },
      false,
      false,
    ],
    [
      'an attendance photo without consent, recognition for attendance off',
      { purpose: 'attendance', subjectIds: ['s1'] },
      {},
      false,
      false,
    ],
    ['an attendance photo without consent, recognition for attendance on', { purpose: 'attendance', subjectIds: ['s1'] }, {}, true, true],
    ['a general photo without consent, recognition for attendance on', { purpose: 'general', subjectIds: ['s1'] }, {}, true, false],
  ] as const)('%s: %s', (_name, row, consents, attendance, expected) => {
    expect(
      recognitionAllowed({ purpose: row.purpose, subjectIds: [...row.subjectIds] }, new Map(Object.entries(consents)), attendance),
    ).toBe(expected);
  });

  it('shows `faces` to the school admins always, to the AI service only when allowed, and to nobody else', () => {
    expect(facesShownTo(principal('admin', 'admin-1'), 'school-a', faces, false)).toHaveLength(1);
    expect(facesShownTo(principal('admin', 'admin-1', 'school-b'), 'school-a', faces, true)).toBeUndefined();
    expect(facesShownTo(principal('service', 'ai-service'), 'school-a', faces, true)).toHaveLength(1);
    expect(facesShownTo(principal('service', 'ai-service'), 'school-a', faces, false)).toBeUndefined();
    expect(facesShownTo(principal('service', 'attendance-service'), 'school-a', faces, true)).toBeUndefined();
    expect(facesShownTo(principal('teacher', 'teacher-1'), 'school-a', faces, true)).toBeUndefined();
    expect(facesShownTo(principal('student', 'student-1'), 'school-a', faces, true)).toBeUndefined();
  });

  it('gives crop URLs to the AI service only, and only while recognition is allowed; `blurred` is left to the display policy', () => {
    expect(() => authorizeFaceVariant(principal('service', 'ai-service'), 'faces/0', true)).not.toThrow();
    expect(() => authorizeFaceVariant(principal('service', 'ai-service'), 'faces/0', false)).toThrow(/consented/);
    expect(() => authorizeFaceVariant(principal('admin', 'admin-1'), 'faces/0', true)).toThrow(/may not/);
    expect(() => authorizeFaceVariant(principal('teacher', 'teacher-1'), 'blurred', false)).not.toThrow();
  });
});
