import type { Kysely } from 'kysely';
import type { Database } from './database';
import { DeletionRows } from './deletion-rows';
import { MediaReads } from './media-reads';
import { RowStore } from './media-rows';
import { ProcessingRows } from './processing-rows';
import { UploadReservations } from './upload-reservations';
import { UsageFigures } from './usage-figures';

export * from './deletion-rows';
export * from './media-reads';
export * from './media-rows';
export * from './processing-rows';
export * from './upload-reservations';
export * from './usage-figures';

/** The stores of the media rows, one per concern; `MediaRepository` is all of them on one connection. */
const CONCERNS = [MediaReads, UploadReservations, ProcessingRows, DeletionRows, UsageFigures] as const;

/**
 * Every media row operation on one connection, as the use cases receive it (their ports pick the
 * few methods each needs). Each method lives in the store of its concern; this class only gathers
 * them, as TypeScript's mixin pattern does: the interface declares them, the prototype borrows them.
 */
export interface MediaRepository extends MediaReads, UploadReservations, ProcessingRows, DeletionRows, UsageFigures {}
// biome-ignore lint/suspicious/noUnsafeDeclarationMerging: the interface above declares what the loop below puts on the prototype
export class MediaRepository extends RowStore {
  constructor(db: Kysely<Database>) {
    super(db);
  }
}
for (const concern of CONCERNS) {
  for (const name of Object.getOwnPropertyNames(concern.prototype)) {
    if (name === 'constructor') continue;
    if (Object.hasOwn(MediaRepository.prototype, name)) throw new Error(`MediaRepository: two stores define ${name}`);
    Object.defineProperty(MediaRepository.prototype, name, Object.getOwnPropertyDescriptor(concern.prototype, name)!);
  }
}
