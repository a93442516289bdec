import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Kysely } from 'kysely';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Config, loadConfig, newMediaId, type Principal, type Purpose } from '@media/core';
import { AccessAuditLog, type Database, FaceRepository, MediaRepository, RightsRepository } from '@media/db';
import { decodeUpright, detectFaces, installedModelFiles } from '@media/faces';
import { LOCAL_S3_CREDENTIALS, startS3Server, type S3Server } from '@media/local';
import { discardEvents, downloadUrl, getMedia, getSchoolSettings, setConsent, setSchoolSettings } from '@media/service';
import { type FaceJob, type FaceStageDeps, FaceStageBusy, resendFaceJobs, runFaceStage } from '@media/service/faces';
import { derivativeKey, MediaStorage, originalKey } from '@media/storage';
import { demoPhoto } from '../../packages/faces/test/demo-photos';
import { testDatabase, uniqueTenant } from '../support/database';

const bucket = 'faces-stage';
const files = installedModelFiles();
let db: Kysely<Database>;
let s3: S3Server;
let dir: string;
let deps: FaceStageDeps & {
  config: Config;
  media: MediaRepository;
  faces: FaceRepository;
  rights: RightsRepository;
  storage: MediaStorage;
};

beforeAll(async () => {
  db = await testDatabase();
  dir = await mkdtemp(join(tmpdir(), 'faces-stage-'));
  s3 = await startS3Server({ directory: dir, host: '127.0.0.1', port: 0, bucket, allowedOrigins: ['http://localhost:*'] });
  const config = loadConfig({ MEDIA_BUCKET: bucket, MEDIA_JWT_SECRET: 'x'.repeat(32), MEDIA_PGLITE_DIR: 'memory://' });
  deps = {
    config,
    media: new MediaRepository(db),
    faces: new FaceRepository(db),
    rights: new RightsRepository(db),
    storage: new MediaStorage({
      bucket,
      region: 'us-east-1',
      endpoint: s3.endpoint,
      forcePathStyle: true,
      credentials: LOCAL_S3_CREDENTIALS,
    }),
  };
});

afterAll(async () => {
  await s3?.stop();
  await db?.destroy();
  if (dir) await rm(dir, { recursive: true, force: true });
});

/**
 * One of the model package's demo photos at 960 px wide (half its size): the detector still finds
 * every face (packages/faces/test checks it at full size), in a fraction of the time. Made once each.
 */
const halfSized = new Map<string, Promise<Buffer>>();
function demoPhotoHalfSize(name: string): Promise<Buffer> {
  let bytes = halfSized.get(name);
  if (!bytes) {
    bytes = sharp(demoPhoto(name)).resize(960).jpeg({ quality: 90 }).toBuffer();
    halfSized.set(name, bytes);
  }
  return bytes;
}

/** A ready photo whose original is one of the model package's demo photos. */
async function readyPhoto(tenant: string, purpose: Purpose, subjectIds: string[], photo = 'sample5.jpg'): Promise<string> {
  const id = newMediaId();
  const key = originalKey(tenant, id);
  const bytes = await demoPhotoHalfSize(photo);
  await deps.storage.put(key, bytes, 'image/jpeg');
  const { width = 0, height = 0 } = await sharp(bytes).metadata();
  await db
    .insertInto('media')
    .values({
      id,
      tenant,
      purpose,
      status: 'pending',
      subjectId: subjectIds[0] ?? null,
      classroomId: purpose === 'attendance' ? 'class-1' : null,
      uploadedBy: 'teacher-1',
      contentType: 'image/jpeg',
      declaredSize: bytes.length,
      filename: null,
      variants: '[]',
      uploadExpiresAt: new Date(Date.now() + 600_000),
    })
    .execute();
  await db
    .updateTable('media')
    .set({
      status: 'ready',
      subjectIds,
      size: bytes.length,
      width,
      height,
      originalKey: key,
      processedAt: new Date(),
      eventPublishedAt: new Date(),
      variants: JSON.stringify([{ name: 'original', key, format: 'jpeg', contentType: 'image/jpeg', width, height, size: bytes.length }]),
    })
    .where('id', '=', id)
    .execute();
  return id;
}

const consent = (tenant: string, subjectId: string, recognition: boolean) =>
  deps.rights.setConsent(tenant, subjectId, { recognition }, 'admin-1', {
    tenant,
    actor: 'admin-1',
    actorRole: 'admin',
    action: 'consent',
    mediaId: null,
    subjectId,
    variant: null,
    requestId: null,
  });

const keysOf = (tenant: string, id: string) => deps.storage.listKeys(`derivatives/${tenant}/${id}/`);

describe('the face stage', () => {
  it('records the faces of a photo whose subjects did not consent, writes `blurred`, and no crop', async () => {
    const tenant = uniqueTenant();
    const id = await readyPhoto(tenant, 'general', ['student-1', 'student-2']);
    await consent(tenant, 'student-1', true);
    const outcome = await runFaceStage(deps, { tenant, mediaId: id }, files);
    expect(outcome).toEqual({ outcome: 'done', mediaId: id, faces: 5, crops: 0 });
    const row = await deps.faces.find(id);
    expect(row?.faces).toHaveLength(5);
    expect(row?.variants.map((v) => v.name)).toEqual(['blurred']);
    expect(await keysOf(tenant, id)).toEqual([derivativeKey(tenant, id, 'blurred', 'webp')]);
    for (const face of row?.faces ?? []) {
      for (const v of [face.box.x, face.box.y, face.box.width, face.box.height]) expect(v).toBeGreaterThanOrEqual(0);
      expect(face.landmarks).toHaveLength(5);
    }
  });

  it('writes one aligned crop per face when every named subject consented to recognition', async () => {
    const tenant = uniqueTenant();
    const id = await readyPhoto(tenant, 'general', ['student-1', 'student-2']);
    await consent(tenant, 'student-1', true);
    await consent(tenant, 'student-2', true);
    expect(await runFaceStage(deps, { tenant, mediaId: id }, files)).toEqual({ outcome: 'done', mediaId: id, faces: 5, crops: 5 });
    const row = await deps.faces.find(id);
    expect(row?.variants.map((v) => v.name)).toEqual(['blurred', 'faces/0', 'faces/1', 'faces/2', 'faces/3', 'faces/4']);
    const crop = await deps.storage.getBytes(derivativeKey(tenant, id, 'faces-2', 'jpeg'));
    expect(await sharp(crop!).metadata()).toMatchObject({ format: 'jpeg', width: 112, height: 112 });
  });

  it('writes crops for an attendance photo in a school that enabled recognition for attendance, and not before', async () => {
    const tenant = uniqueTenant();
    const before = await readyPhoto(tenant, 'attendance', []);
    expect(await runFaceStage(deps, { tenant, mediaId: before }, files)).toMatchObject({ outcome: 'done', crops: 0 });
    await deps.faces.setRecognitionForAttendance(tenant, true, 'admin-1');
    const after = await readyPhoto(tenant, 'attendance', []);
    expect(await runFaceStage(deps, { tenant, mediaId: after }, files)).toMatchObject({ outcome: 'done', faces: 5, crops: 5 });
  });

  it('runs once per item: a second delivery finds the work done and changes nothing', async () => {
    const tenant = uniqueTenant();
    const id = await readyPhoto(tenant, 'general', []);
    await runFaceStage(deps, { tenant, mediaId: id }, files);
    const first = await deps.faces.find(id);
    expect(await runFaceStage(deps, { tenant, mediaId: id }, files)).toEqual({ outcome: 'ignored', mediaId: id, reason: 'faces-done' });
    expect((await deps.faces.find(id))?.attempts).toBe(first?.attempts);
  });

  it('sends a delivery that finds the item leased elsewhere back for later', async () => {
    const tenant = uniqueTenant();
    const id = await readyPhoto(tenant, 'general', []);
    await deps.faces.claim(tenant, id, 300);
    await expect(runFaceStage(deps, { tenant, mediaId: id }, files)).rejects.toBeInstanceOf(FaceStageBusy);
  });

  it('gives up after the configured attempts and records no faces', async () => {
    const tenant = uniqueTenant();
    const id = await readyPhoto(tenant, 'general', []);
    for (let n = 0; n < deps.config.processing.maxAttempts; n++) {
      await deps.faces.claim(tenant, id, 300);
      await deps.faces.release(id);
    }
    expect(await runFaceStage(deps, { tenant, mediaId: id }, files)).toEqual({ outcome: 'failed', mediaId: id });
    expect((await deps.faces.find(id))?.faces).toBeNull();
  });

  it('ignores an item of another school, and one that is no longer ready', async () => {
    const tenant = uniqueTenant();
    const id = await readyPhoto(tenant, 'general', []);
    expect(await runFaceStage(deps, { tenant: uniqueTenant(), mediaId: id }, files)).toMatchObject({
      outcome: 'ignored',
      reason: 'unknown-media',
    });
    await db.updateTable('media').set({ status: 'deleted', deletedAt: new Date(), deletedBy: 'admin-1' }).where('id', '=', id).execute();
    expect(await runFaceStage(deps, { tenant, mediaId: id }, files)).toMatchObject({ outcome: 'ignored', reason: 'media-deleted' });
    expect(await keysOf(tenant, id)).toEqual([]);
  });

  it('leaves no face in `blurred` for the detector to find', async () => {
    const tenant = uniqueTenant();
    const id = await readyPhoto(tenant, 'general', [], 'sample6.jpg');
    await runFaceStage(deps, { tenant, mediaId: id }, files);
    const blurred = await deps.storage.getBytes(derivativeKey(tenant, id, 'blurred', 'webp'));
    expect(await detectFaces(await decodeUpright(blurred!, 50_000_000), files)).toEqual([]);
  });

  it('removes the crops, objects and record, when a named subject withdraws consent, and keeps `blurred` and `faces`', async () => {
    const tenant = uniqueTenant();
    const id = await readyPhoto(tenant, 'general', ['student-1']);
    await consent(tenant, 'student-1', true);
    await runFaceStage(deps, { tenant, mediaId: id }, files);
    expect(await keysOf(tenant, id)).toHaveLength(6);

    const admin = { role: 'admin', tenant, sub: 'admin-1', classrooms: [] } as unknown as Principal;
    await setConsent({ ...deps, audit: new AccessAuditLog(db), events: discardEvents }, admin, 'student-1', { recognition: false });
    expect(await keysOf(tenant, id)).toEqual([derivativeKey(tenant, id, 'blurred', 'webp')]);
    const row = await deps.faces.find(id);
    expect(row?.variants.map((v) => v.name)).toEqual(['blurred']);
    expect(row?.faces).toHaveLength(5);
  });

  it('makes the crops when consent comes after detection: the items it now allows go back to the stage, the others stay as they are', async () => {
    const tenant = uniqueTenant();
    const alone = await readyPhoto(tenant, 'general', ['student-1']);
    const withOther = await readyPhoto(tenant, 'general', ['student-1', 'student-2'], 'sample2.jpg');
    for (const id of [alone, withOther]) await runFaceStage(deps, { tenant, mediaId: id }, files);
    expect(await keysOf(tenant, alone)).toEqual([derivativeKey(tenant, alone, 'blurred', 'webp')]);

    const sent: FaceJob[] = [];
    const admin = { role: 'admin', tenant, sub: 'admin-1', classrooms: [] } as unknown as Principal;
    const api = {
      ...deps,
      audit: new AccessAuditLog(db),
      events: discardEvents,
      faceQueue: { enqueue: async (job: FaceJob) => void sent.push(job) },
    };
    await setConsent(api, admin, 'student-1', { recognition: true });
    // student-2 has not consented: the photo naming both keeps no crop.
    expect(sent).toEqual([{ tenant, mediaId: alone }]);
    expect(await deps.faces.find(alone)).toMatchObject({ status: 'pending', attempts: 0 });
    expect(await deps.faces.find(withOther)).toMatchObject({ status: 'done' });

    expect(await runFaceStage(deps, sent[0]!, files)).toMatchObject({ outcome: 'done', faces: 5, crops: 5 });
    expect(await keysOf(tenant, alone)).toHaveLength(6);
    expect((await deps.faces.find(alone))?.variants.map((v) => v.name)).toEqual([
      'blurred',
      'faces/0',
      'faces/1',
      'faces/2',
      'faces/3',
      'faces/4',
    ]);

    // Written again, the same consent sends nothing: the crops are there.
    await setConsent(api, admin, 'student-1', { recognition: true });
    expect(sent).toHaveLength(1);
  });

  it('sends attendance photos back to the stage when the school turns recognition for attendance on', async () => {
    const tenant = uniqueTenant();
    const id = await readyPhoto(tenant, 'attendance', []);
    expect(await runFaceStage(deps, { tenant, mediaId: id }, files)).toMatchObject({ outcome: 'done', crops: 0 });
    const sent: FaceJob[] = [];
    const admin = { role: 'admin', tenant, sub: 'admin-1', classrooms: [] } as unknown as Principal;
    await setSchoolSettings({ ...deps, faceQueue: { enqueue: async (job: FaceJob) => void sent.push(job) } }, admin, {
      recognitionForAttendance: true,
    });
    expect(sent).toEqual([{ tenant, mediaId: id }]);
    expect(await runFaceStage(deps, sent[0]!, files)).toMatchObject({ outcome: 'done', crops: 5 });
  });

  it('keeps the crops of an attendance photo after a withdrawal when the school enabled recognition for attendance', async () => {
    const tenant = uniqueTenant();
    await deps.faces.setRecognitionForAttendance(tenant, true, 'admin-1');
    const id = await readyPhoto(tenant, 'attendance', ['student-1']);
    await runFaceStage(deps, { tenant, mediaId: id }, files);
    await consent(tenant, 'student-1', false);
    const { revokeFaceCrops } = await import('@media/service');
    expect(await revokeFaceCrops(deps, tenant, 'student-1')).toBe(0);
    expect(await keysOf(tenant, id)).toHaveLength(6);
  });

  it('lets an admin turn recognition for attendance off, audited, which removes the attendance crops consent does not allow', async () => {
    const tenant = uniqueTenant();
    const admin = { role: 'admin', tenant, sub: 'admin-1', classrooms: [] } as unknown as Principal;
    const teacher = { role: 'teacher', tenant, sub: 'teacher-1', classrooms: ['class-1'] } as unknown as Principal;
    expect(await getSchoolSettings(deps, admin)).toEqual({ recognitionForAttendance: false, updatedAt: null, updatedBy: null });
    await expect(setSchoolSettings(deps, teacher, { recognitionForAttendance: true })).rejects.toMatchObject({ code: 'FORBIDDEN' });

    expect(await setSchoolSettings(deps, admin, { recognitionForAttendance: true }, 'req-1')).toMatchObject({
      recognitionForAttendance: true,
      updatedBy: 'admin-1',
    });
    const unconsented = await readyPhoto(tenant, 'attendance', ['student-1']);
    const consented = await readyPhoto(tenant, 'attendance', ['student-2']);
    await consent(tenant, 'student-2', true);
    await runFaceStage(deps, { tenant, mediaId: unconsented }, files);
    await runFaceStage(deps, { tenant, mediaId: consented }, files);

    await setSchoolSettings(deps, admin, { recognitionForAttendance: false }, 'req-2');
    expect(await keysOf(tenant, unconsented)).toEqual([derivativeKey(tenant, unconsented, 'blurred', 'webp')]);
    expect(await keysOf(tenant, consented)).toHaveLength(6);
    const audit = await db
      .selectFrom('accessAudit')
      .select(['action', 'actor', 'requestId'])
      .where('tenant', '=', tenant)
      .where('action', '=', 'setting')
      .execute();
    expect(audit.map((a) => a.requestId).sort()).toEqual(['req-1', 'req-2']);
  });

  it('sends the face jobs the sweeper finds owed (never sent, or lost), once per idle period, and not those done', async () => {
    const tenant = uniqueTenant();
    const owed = await readyPhoto(tenant, 'general', []);
    const done = await readyPhoto(tenant, 'general', []);
    await runFaceStage(deps, { tenant, mediaId: done }, files);
    const sent: FaceJob[] = [];
    const faceQueue = { enqueue: async (job: FaceJob) => void sent.push(job) };
    // The database is shared with other files: look at this school's jobs only.
    await resendFaceJobs({ faces: deps.faces, faceQueue }, 100_000);
    expect(sent.filter((j) => j.tenant === tenant)).toEqual([{ tenant, mediaId: owed }]);
    sent.length = 0;
    await resendFaceJobs({ faces: deps.faces, faceQueue }, 100_000);
    expect(sent.filter((j) => j.tenant === tenant)).toEqual([]);
    expect(await runFaceStage(deps, { tenant, mediaId: owed }, files)).toMatchObject({ outcome: 'done', faces: 5 });
  });

  it('gives ai-service a URL to a crop while consent allows, nobody else, and `blurred` to whoever may see the photo', async () => {
    const tenant = uniqueTenant();
    const id = await readyPhoto(tenant, 'attendance', ['student-1']);
    await consent(tenant, 'student-1', true);
    await runFaceStage(deps, { tenant, mediaId: id }, files);
    const api = { ...deps, audit: new AccessAuditLog(db), events: discardEvents };
    const ai = { role: 'service', tenant, sub: 'ai-service', classrooms: [] } as unknown as Principal;
    const teacher = { role: 'teacher', tenant, sub: 'teacher-1', classrooms: ['class-1'] } as unknown as Principal;

    const crop = await downloadUrl(api, ai, id, 'faces/1');
    const fetched = await fetch(crop.url);
    expect(await sharp(Buffer.from(await fetched.arrayBuffer())).metadata()).toMatchObject({ width: 112, height: 112, format: 'jpeg' });
    await expect(downloadUrl(api, teacher, id, 'faces/1')).rejects.toMatchObject({ code: 'FORBIDDEN' });
    await expect(downloadUrl(api, ai, id, 'faces/9')).rejects.toMatchObject({ code: 'NOT_FOUND' });
    const blurred = await downloadUrl(api, teacher, id, 'blurred');
    expect((await fetch(blurred.url)).status).toBe(200);
    await expect(downloadUrl(api, ai, id, 'blurred')).rejects.toMatchObject({ code: 'FORBIDDEN' });

    await consent(tenant, 'student-1', false);
    await expect(downloadUrl(api, ai, id, 'faces/1')).rejects.toMatchObject({ code: 'CONSENT_REQUIRED' });
    const audited = await db
      .selectFrom('accessAudit')
      .select('variant')
      .where('tenant', '=', tenant)
      .where('action', '=', 'download')
      .execute();
    expect(audited.map((a) => a.variant).sort()).toEqual(['blurred', 'faces/1']);
  });

  it('shows `faces` in the record to the school admins always, to ai-service while consent allows, to nobody else', async () => {
    const tenant = uniqueTenant();
    const id = await readyPhoto(tenant, 'attendance', ['student-1']);
    await runFaceStage(deps, { tenant, mediaId: id }, files);
    const api = { ...deps, audit: new AccessAuditLog(db), events: discardEvents };
    const as = (role: string, sub: string) => ({ role, tenant, sub, classrooms: ['class-1'] }) as unknown as Principal;

    expect((await getMedia(api, as('admin', 'admin-1'), id)).faces).toHaveLength(5);
    expect((await getMedia(api, as('teacher', 'teacher-1'), id)).faces).toBeUndefined();
    expect((await getMedia(api, as('service', 'attendance-service'), id)).faces).toBeUndefined();
    expect((await getMedia(api, as('service', 'ai-service'), id)).faces).toBeUndefined();
    await consent(tenant, 'student-1', true);
    expect((await getMedia(api, as('service', 'ai-service'), id)).faces).toHaveLength(5);
  });
});
