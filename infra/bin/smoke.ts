import { parseArgs } from 'node:util';
import { smokeCheck } from '../lib/smoke-check';

const USAGE = `Usage: npm run smoke -- <api-url> [--token <jwt>] [--timeout <seconds>]

After a deploy: uploads a small photo through the API and S3, waits until it is ready, downloads
a derivative and deletes it. The token (default $MEDIA_SMOKE_TOKEN) comes from the identity
provider: a teacher or admin of a school kept for such checks. Exit 0 when every step works.`;

/** Bad usage: one sentence, exit status 2, no stack trace. */
function fail(message: string): never {
  process.stderr.write(`${message} (--help lists the options)\n`);
  process.exit(2);
}

let parsed;
try {
  parsed = parseArgs({
    allowPositionals: true,
    options: {
      token: { type: 'string' },
      timeout: { type: 'string', default: '120' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
} catch (error) {
  const option = /option '([^']+)'/.exec((error as Error).message)?.[1];
  fail(option ? `Unknown or incomplete option ${option}.` : (error as Error).message.split('\n')[0]!);
}
if (parsed.values.help) {
  console.log(USAGE);
  process.exit(0);
}
const apiUrl = parsed.positionals[0];
const token = parsed.values.token ?? process.env.MEDIA_SMOKE_TOKEN;
const timeoutSeconds = Number(parsed.values.timeout);
if (!apiUrl) fail('Name the API URL: npm run smoke -- <api-url>.');
if (!URL.canParse(apiUrl) || !/^https?:$/.test(new URL(apiUrl).protocol)) fail(`${apiUrl} is not an http(s) URL.`);
if (!token) fail('Give a token: --token <jwt> or MEDIA_SMOKE_TOKEN.');
if (!Number.isFinite(timeoutSeconds) || timeoutSeconds <= 0) fail('--timeout must be a number of seconds above 0.');
try {
  const steps = await smokeCheck({ apiUrl, token, timeoutMs: timeoutSeconds * 1000, log: (line) => console.log(line) });
  console.log(`smoke check passed: ${steps.length} steps in ${steps.reduce((sum, s) => sum + s.ms, 0)} ms`);
} catch (error) {
  console.error((error as Error).message);
  process.exit(1);
}
