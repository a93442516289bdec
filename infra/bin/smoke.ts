import { parseArgs } from 'node:util';
import { smokeCheck } from '../lib/smoke-check';

const USAGE = `Usage: npm run smoke -- <api-url> [--token <jwt>] [--timeout <seconds>]

After a deploy: uploads a small photo through the API and S3, waits until it is ready, downloads
a derivative and deletes it. The token (default $MEDIA_SMOKE_TOKEN) comes from the identity
provider: a teacher or admin of a school kept for such checks. Exit 0 when every step works.`;

let parsed;
try {
  parsed = parseArgs({ allowPositionals: true, options: { token: { type: 'string' }, timeout: { type: 'string', default: '120' } } });
} catch (error) {
  console.error(`${(error as Error).message}\n\n${USAGE}`);
  process.exit(2);
}
const apiUrl = parsed.positionals[0];
const token = parsed.values.token ?? process.env.MEDIA_SMOKE_TOKEN;
if (!apiUrl || !token) {
  console.error(`${!apiUrl ? 'name the API URL' : 'give a token (--token or MEDIA_SMOKE_TOKEN)'}\n\n${USAGE}`);
  process.exit(2);
}
try {
  const steps = await smokeCheck({ apiUrl, token, timeoutMs: Number(parsed.values.timeout) * 1000, log: (line) => console.log(line) });
  console.log(`smoke check passed: ${steps.length} steps in ${steps.reduce((sum, s) => sum + s.ms, 0)} ms`);
} catch (error) {
  console.error((error as Error).message);
  process.exit(1);
}
