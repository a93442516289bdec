import { join } from 'node:path';
import { REPO_ROOT } from './repo';

/**
 * The account LocalStack reports for its test credentials. The localstack profile deploys only
 * there: it carries the well-known development JWT secret and a throwaway database password.
 */
export const LOCALSTACK_ACCOUNT = '000000000000';

/** Where LocalStack answers (the compose file publishes it on 4566). */
export const LOCALSTACK_ENDPOINT = process.env.LOCALSTACK_ENDPOINT ?? 'http://localhost:4566';

/** `npm run deploy:local` writes the stack outputs (function URLs, bucket, queues) here. */
export const LOCALSTACK_OUTPUTS = join(REPO_ROOT, 'cdk.out', 'localstack-outputs.json');

/** The stack name of the localstack profile for the default stage. */
export const LOCALSTACK_STACK = 'MediaService-dev-local';

/** Whether LocalStack answers its health endpoint, and if not, why in a sentence. */
export async function probeLocalStack(): Promise<{ ok: true } | { ok: false; reason: string }> {
  try {
    const response = await fetch(`${LOCALSTACK_ENDPOINT}/_localstack/health`, { signal: AbortSignal.timeout(2_000) });
    if (!response.ok) return { ok: false, reason: `LocalStack at ${LOCALSTACK_ENDPOINT} answered ${response.status}` };
    return { ok: true };
  } catch {
    return { ok: false, reason: `no LocalStack answers at ${LOCALSTACK_ENDPOINT}` };
  }
}

export const START_LOCALSTACK_HINT = 'start it with `docker compose -f localstack-compose.yml up -d --wait`, then `npm run deploy:local`';
