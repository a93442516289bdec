export * from './rejection';
export * from './sniff';
export * from './hashes';
export * from './derivatives';
