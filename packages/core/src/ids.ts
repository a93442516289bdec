import { v7 as uuidv7, validate, version } from 'uuid';

/** Media ids are UUIDv7: unique, unguessable enough for keys, and sorted by creation time. */
export const newMediaId = (): string => uuidv7();

export const isMediaId = (value: string): boolean => validate(value) && version(value) === 7;
