import { v7 as uuidv7 } from 'uuid';

/** Media ids are UUIDv7: unique, unguessable enough for keys, and sorted by creation time. */
export const newMediaId = (): string => uuidv7();
