import yauzl from 'yauzl';
import { newMediaId, type Principal, type Purpose } from '@media/core';
import { AccessAuditLog, createDatabase, MediaRepository, RightsRepository } from '@media/db';
import type { Dependencies } from '@media/service';
import { derivativeKey, originalKey } from '@media/storage';
import { appDatabaseUrl } from '../support/database';
import type { TestStack } from '../support/test-stack';

/**
 * The stack's dependencies as the functions have them in AWS: signed in as the DML-only app role,
 * so a grant the rights need and the migration forgot fails here.
 */
export async function appRoleDependencies(stack: TestStack, databaseUrl: string): Promise<Dependencies> {
  const db = await createDatabase({ url: appDatabaseUrl(databaseUrl), poolSize: 4 });
  return { ...stack.deps, db, media: new MediaRepository(db), rights: new RightsRepository(db), audit: new AccessAuditLog(db) };
}

export const principalOf = (role: Principal['role'], tenant: string, sub: string): Principal =>
  ({ role, tenant, sub, classrooms: [] }) as Principal;

/**
 * Ready rows written straight into the database (with a small original in the bucket for those
 * asked), for tests that need many items and not the image pipeline.
 */
export async function readyRows(
  stack: TestStack,
  items: { tenant: string; subjectId: string; purpose: Purpose; legalHold?: boolean; withObject?: boolean; createdAt?: Date }[],
): Promise<string[]> {
  const ids = items.map(() => newMediaId());
  await stack.deps.db
    .insertInto('media')
    .values(
      items.map((item, n) => ({
        status: 'pending' as const,
        variants: '[]',
        id: ids[n]!,
        tenant: item.tenant,
        purpose: item.purpose,
        subjectId: item.subjectId,
        classroomId: item.purpose === 'attendance' ? 'c-1' : null,
        uploadedBy: 'admin-1',
        contentType: 'image/jpeg',
        declaredSize: 100,
        filename: null,
        uploadExpiresAt: new Date(Date.now() + 600_000),
      })),
    )
    .execute();
  for (const [n, item] of items.entries()) {
    const id = ids[n]!;
    const key = originalKey(item.tenant, id);
    await stack.deps.db
      .updateTable('media')
      .set({
        status: 'ready',
        size: 100,
        originalKey: key,
        processedAt: new Date(),
        eventPublishedAt: new Date(),
        legalHold: item.legalHold ?? false,
        variants: JSON.stringify([
          { name: 'original', key, format: 'jpeg', contentType: 'image/jpeg', width: 10, height: 10, size: 100 },
          {
            name: 'ml',
            key: derivativeKey(item.tenant, id, 'ml', 'jpg'),
            format: 'jpeg',
            contentType: 'image/jpeg',
            width: 10,
            height: 10,
            size: 100,
          },
        ]),
        ...(item.createdAt ? { createdAt: item.createdAt } : {}),
      })
      .where('id', '=', id)
      .execute();
    if (item.withObject) await stack.deps.storage.put(key, Buffer.from(`photo ${id}`), 'image/jpeg');
  }
  return ids;
}

/** Every entry of a ZIP file, read with a zip reader of its own (not the library that wrote it). */
export function unzip(bytes: Buffer): Promise<Map<string, Buffer>> {
  return new Promise((resolve, reject) => {
    yauzl.fromBuffer(bytes, { lazyEntries: true }, (error, zip) => {
      if (error || !zip) return reject(error);
      const files = new Map<string, Buffer>();
      zip.on('error', reject);
      zip.on('end', () => resolve(files));
      zip.on('entry', (entry: yauzl.Entry) => {
        zip.openReadStream(entry, (err, stream) => {
          if (err || !stream) return reject(err);
          const chunks: Buffer[] = [];
          stream.on('data', (c: Buffer) => chunks.push(c));
          stream.on('end', () => {
            files.set(entry.fileName, Buffer.concat(chunks));
            zip.readEntry();
          });
        });
      });
      zip.readEntry();
    });
  });
}
