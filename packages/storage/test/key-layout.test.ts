import { describe, expect, it } from 'vitest';
import { contentDisposition, derivativeKey, incomingKey, originalKey, parseIncomingKey } from '@media/storage';

const id = '0196b2a4-7c1e-7d3a-9f00-123456789abc';

describe('key layout', () => {
  it('places objects by tenant and media id only', () => {
    expect(incomingKey('school-1', id)).toBe(`incoming/school-1/${id}`);
    expect(originalKey('school-1', id)).toBe(`originals/school-1/${id}`);
    expect(derivativeKey('school-1', id, 'thumb', 'webp')).toBe(`derivatives/school-1/${id}/thumb.webp`);
  });

  it('refuses segments that could escape their prefix', () => {
    expect(() => incomingKey('../other', id)).toThrow();
    expect(() => incomingKey('a/b', id)).toThrow();
    expect(() => incomingKey('..', id)).toThrow();
  });

  it('parses only well-formed incoming keys', () => {
    expect(parseIncomingKey(`incoming/school-1/${id}`)).toEqual({ tenant: 'school-1', mediaId: id });
    expect(parseIncomingKey(`originals/school-1/${id}`)).toBeNull();
    expect(parseIncomingKey(`incoming/school-1/${id}/extra`)).toBeNull();
    expect(parseIncomingKey('incoming/school-1/not-a-uuid')).toBeNull();
  });
});

describe('contentDisposition', () => {
  it('cannot be used to inject headers', () => {
    const value = contentDisposition('evil"\r\nSet-Cookie: a=b.jpg', 'fallback.jpg');
    expect(value).not.toMatch(/[\r\n]/);
    expect(value.startsWith('inline; filename="evil_Set-Cookie_ a_b.jpg"')).toBe(true);
  });

  it('keeps non-ASCII names in the UTF-8 form', () => {
    expect(contentDisposition('Zoë.jpg', 'x')).toContain("filename*=UTF-8''Zo%C3%AB.jpg");
  });
});
