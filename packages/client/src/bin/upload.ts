import { stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { UploadRequest } from '@media/core/contract';
import { PURPOSE_POLICIES } from '@media/core/purposes';
import type { Purpose } from '../contract-types';
import { createMediaClient } from '../index';
import { BulkUploadStopped, bulkUpload } from '../node/bulk-upload';
import { ProgressBar } from '../node/progress-bar';
import { uploadSummary } from '../node/upload-summary';

const PURPOSES = UploadRequest.shape.purpose.options;

const USAGE = `Usage: npm run upload -- <dir> --purpose <${PURPOSES.join('|')}> [options]
       (installed from the package: media-upload <dir> --purpose … [options])

Uploads every photo and video under <dir> (recursively), skipping files already uploaded for the same
purpose (same sha256), and waits until each is ready or rejected.

Options:
  --purpose <p>        what the photos are for (required)
  --concurrency <n>    files at a time (default 4)
  --classroom <id>     classroom id (attendance photos need one)
  --subject <id>       subject id
  --api-url <url>      the media API (default $MEDIA_API_URL or http://127.0.0.1:3000)
  --token <jwt>        bearer token (default $MEDIA_TOKEN)
  --timeout <seconds>  how long to wait for each file's processing (default 120)

Exit status: 0 when every file is ready or skipped, 1 when any was rejected or failed, 2 on bad
usage, a missing folder, an API that does not answer, or a token or purpose it refuses.`;

/** Bad usage: one sentence, exit status 2, before any request. */
function fail(message: string): never {
  process.stderr.write(`${message} (--help lists the options)\n`);
  process.exit(2);
}

let parsed;
try {
  parsed = parseArgs({
    allowPositionals: true,
    options: {
      purpose: { type: 'string' },
      concurrency: { type: 'string', default: '4' },
      classroom: { type: 'string' },
      subject: { type: 'string' },
      'api-url': { type: 'string' },
      token: { type: 'string' },
      timeout: { type: 'string', default: '120' },
      help: { type: 'boolean', short: 'h' },
    },
  });
} catch (error) {
  fail((error as Error).message);
}
const { values, positionals } = parsed;
if (values.help) {
  process.stdout.write(`${USAGE}\n`);
  process.exit(0);
}
// npm runs scripts from the repository root; a relative folder means the caller's own directory.
const dir = resolve(process.env.INIT_CWD ?? process.cwd(), positionals[0] ?? fail('Which folder? Give it as the first argument.'));
if (positionals.length > 1) fail(`One folder at a time; got ${positionals.join(', ')}.`);
const purpose = values.purpose as Purpose | undefined;
if (!purpose || !PURPOSES.includes(purpose)) fail(`--purpose must be one of ${PURPOSES.join(', ')}.`);
if (PURPOSE_POLICIES[purpose].needsClassroom && !values.classroom) fail(`--purpose ${purpose} needs --classroom <id>.`);
const concurrency = Number(values.concurrency);
if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 64) fail('--concurrency must be a whole number from 1 to 64.');
const timeoutSeconds = Number(values.timeout);
if (!(timeoutSeconds > 0)) fail('--timeout must be a positive number of seconds.');
const baseUrl = values['api-url'] || process.env.MEDIA_API_URL || 'http://127.0.0.1:3000';
const token =
  values.token || process.env.MEDIA_TOKEN || fail('No token: pass --token or set MEDIA_TOKEN (`npm run token -- …` mints one locally).');

const folder = await stat(dir).catch(() => undefined);
if (!folder) fail(`No folder ${dir}: check the path.`);
if (!folder.isDirectory()) fail(`${dir} is a file, not a folder: give the folder that holds the photos.`);

const bar = new ProgressBar(process.stderr);
const result = await bulkUpload({
  client: createMediaClient({ baseUrl, token }),
  apiUrl: baseUrl,
  dir,
  purpose,
  classroomId: values.classroom,
  subjectId: values.subject,
  concurrency,
  timeoutMs: timeoutSeconds * 1000,
  onProgress: (progress) => bar.update(progress),
}).catch((error: Error) => {
  bar.finish();
  // One sentence for what stops every file (no answer, a refused token or purpose), not one per file.
  process.stderr.write(error instanceof BulkUploadStopped ? `Stopped: ${error.message}\n` : `Could not upload ${dir}: ${error.message}\n`);
  process.exit(2);
});
bar.finish();
process.stdout.write(uploadSummary(result, purpose));
process.exitCode = result.outcomes.some((o) => o.status === 'rejected' || o.status === 'failed') ? 1 : 0;
