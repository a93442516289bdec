import { describe, expect, it } from 'vitest';
import type { Principal } from '@media/core';
import { downloadUrl } from '../src/downloads';
import { codeOf, fakePorts, readyRow } from './fakes';

const admin: Principal = { role: 'admin', sub: 'a-1', tenant: 'school-1', classrooms: [] };
const ai: Principal = { role: 'service', sub: 'ai-service', tenant: 'school-1', classrooms: [] };

describe('download URLs and the audit log (unit, in-memory ports)', () => {
  it('writes one audit entry per URL handed out, naming who, what, which copy and the request', async () => {
    const ports = fakePorts();
    const row = readyRow(ports, { tenant: 'school-1', purpose: 'general', subjectId: 'child-1' });

    await downloadUrl(ports.mediaPorts, admin, row.id, 'thumb', 'req-1');

    expect(ports.audit.entries).toEqual([
      {
        tenant: 'school-1',
        actor: 'a-1',
        actorRole: 'admin',
        action: 'download',
        mediaId: row.id,
        subjectId: 'child-1',
        variant: 'thumb',
        requestId: 'req-1',
      },
    ]);
  });

  it('hands out no URL when its audit entry cannot be written', async () => {
    const ports = fakePorts();
    const row = readyRow(ports, { tenant: 'school-1', purpose: 'general', subjectId: 'child-1' });
    ports.mediaPorts.audit = { append: async () => Promise.reject(new Error('database down')) };

    await expect(downloadUrl(ports.mediaPorts, admin, row.id, 'thumb')).rejects.toThrow('database down');
  });

  it('refuses ai-service the ml copy of a profile photo without recognition consent, and writes no entry', async () => {
    const ports = fakePorts();
    const row = readyRow(ports, { tenant: 'school-1', purpose: 'profile', subjectId: 'child-1' });

    expect(await codeOf(downloadUrl(ports.mediaPorts, ai, row.id, 'ml'))).toBe('CONSENT_REQUIRED');
    expect(ports.audit.entries).toEqual([]);
  });
});
