import { once } from 'node:events';
import { PassThrough, type Readable } from 'node:stream';
import archiver from 'archiver';
import type { MediaRow, RightsJobRow } from '@media/db';
import { exportKey } from '@media/storage';
import type { Dependencies } from './dependencies';
import { toMediaRecord } from './media-record';

type Deps = Pick<Dependencies, 'config' | 'rights' | 'storage'>;

/** Items read from the database at a time while the ZIP is written. */
const PAGE = 50;

/** The file name of an item's original inside the ZIP: its id and the extension of its stored type. */
const entryNameOf = (id: string, contentType: string) =>
  `media/${id}.${(contentType.split('/')[1] ?? 'bin').replace(/[^a-z0-9]/g, '') || 'bin'}`;

/** Adds one entry and waits until the archive has taken it in, so only one source stream is open at a time. */
async function addEntry(archive: archiver.Archiver, source: Readable | string, name: string): Promise<void> {
  const taken = once(archive, 'entry');
  archive.append(source, { name });
  await taken;
}

/**
 * An item's record as the person's export shows it: the other people a shared photo names are
 * theirs to ask about, not this person's, so only this person is named.
 */
function recordForExport(row: MediaRow, subjectId: string) {
  return { ...toMediaRecord(row), subjectId, subjectIds: [subjectId] };
}

/**
 * Writes one export: a ZIP file of every ready item naming the person, of the purposes its
 * requester may read (their clean originals, as stored) and `manifest.json` with the items' records, streamed into storage as it is written (a
 * multipart upload), so neither the file nor any photo is ever whole in memory. The job is claimed
 * for one lease; a worker that dies leaves the lease to run out and the next run starts the file
 * again from the beginning (the upload replaces the object).
 */
export async function runExport(deps: Deps, jobId: string): Promise<RightsJobRow | undefined> {
  const job = await deps.rights.claimJob(jobId, deps.config.processing.leaseSeconds);
  if (!job) return undefined;
  // Photos are compressed already: stored, not deflated again.
  const archive = archiver('zip', { store: true });
  const key = exportKey(job.tenant, job.id);
  // archiver's stream is not a Node stream.Readable (which the SDK's upload insists on): piped through one.
  const body = new PassThrough();
  archive.on('error', (error) => body.destroy(error));
  archive.pipe(body);
  const uploaded = deps.storage.putStream(key, body, 'application/zip');
  // An upload that fails stops the archive; the rejection is seen below.
  uploaded.catch(() => archive.abort());
  const manifest: unknown[] = [];
  try {
    let after: string | null = null;
    for (;;) {
      const page = await deps.rights.itemsAbout(job.tenant, job.subjectId, { purposes: job.purposes, status: 'ready', after, limit: PAGE });
      if (page.length === 0) break;
      after = page[page.length - 1]!.id;
      for (const row of page) {
        const original = row.variants.find((v) => v.name === 'original');
        const sourceKey = original?.key ?? row.originalKey;
        if (!sourceKey) continue;
        const source = await deps.storage.getStream(sourceKey);
        if (!source) continue; // deleted meanwhile
        const file = entryNameOf(row.id, original?.contentType ?? row.contentType);
        await addEntry(archive, source, file);
        manifest.push({ file, ...recordForExport(row, job.subjectId) });
      }
    }
    const document = { subjectId: job.subjectId, tenant: job.tenant, exportedAt: new Date().toISOString(), items: manifest };
    await addEntry(archive, JSON.stringify(document, null, 2), 'manifest.json');
    await archive.finalize();
    await uploaded;
  } catch (error) {
    // Stop both ends: the upload fails (and aborts its multipart upload) rather than wait for more.
    archive.abort();
    body.destroy(error instanceof Error ? error : new Error(String(error)));
    await uploaded.catch(() => undefined);
    throw error;
  }
  return deps.rights.finishExport(job.id, { items: manifest.length, bytes: archive.pointer(), objectKey: key });
}
