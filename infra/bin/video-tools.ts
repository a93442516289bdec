/**
 * Writes the video function's `video-tools.tar.gz` from the committed lock (the bundling step runs
 * it): `npx tsx infra/bin/video-tools.ts <arm64|x86_64> <file>`. Packages come from the user's
 * cache, downloaded and hash-checked on first use.
 */
import { join } from 'node:path';
import { type LambdaArchitecture, readVideoToolsLock, videoToolsArchive } from '@media/artifacts';
import { REPO_ROOT } from '../lib/repo';

const [architecture, outFile] = process.argv.slice(2);
if ((architecture !== 'arm64' && architecture !== 'x86_64') || !outFile) {
  console.error('usage: video-tools.ts <arm64|x86_64> <file>');
  process.exit(2);
}
await videoToolsArchive(readVideoToolsLock(join(REPO_ROOT, 'infra', 'video-tools'), architecture as LambdaArchitecture), outFile);
