import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { createRequire } from 'node:module';

/**
 * The demo photos that ship inside @vladmandic/face-api, read where npm installed them: the
 * repository does not carry them (their licence is not stated). The counts are the faces a person
 * finds in each.
 */
export const DEMO_PHOTOS = [
  { name: 'sample1.jpg', faces: 3 },
  { name: 'sample2.jpg', faces: 3 },
  { name: 'sample3.jpg', faces: 3 },
  { name: 'sample4.jpg', faces: 4 },
  { name: 'sample5.jpg', faces: 5 },
  { name: 'sample6.jpg', faces: 4 },
] as const;

export function demoPhoto(name: string): Buffer {
  const root = dirname(createRequire(import.meta.url).resolve('@vladmandic/face-api/package.json'));
  return readFileSync(join(root, 'demo', name));
}
