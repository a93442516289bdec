import { spawnSync } from 'node:child_process';
import { LOCALSTACK_ACCOUNT, LOCALSTACK_OUTPUTS, LOCALSTACK_STACK, probeLocalStack, START_LOCALSTACK_HINT } from '../lib/localstack';

/**
 * `npm run deploy:local`: bootstraps LocalStack for CDK and deploys the app's `localstack` profile
 * with cdklocal, writing the outputs (function URLs, bucket, queues) for `npm run test:localstack`.
 * Extra arguments go to `cdklocal deploy` (e.g. `-- -c media:architecture=arm64`).
 */
const probe = await probeLocalStack();
if (!probe.ok) {
  console.error(`deploy:local: ${probe.reason}; ${START_LOCALSTACK_HINT.replace(', then `npm run deploy:local`', '')}.`);
  process.exit(1);
}

const context = ['-c', 'media:profile=localstack'];
// LocalStack's test credentials, whatever the shell holds: LocalStack answers them with its own
// account, the only one the localstack profile deploys to, and no real key is ever sent anywhere.
const { AWS_PROFILE: _profile, AWS_SESSION_TOKEN: _token, ...inherited } = process.env;
const env = { ...inherited, AWS_ACCESS_KEY_ID: 'test', AWS_SECRET_ACCESS_KEY: 'test' };
const run = (args: string[]) => {
  const result = spawnSync('npx', ['cdklocal', ...args], { stdio: 'inherit', env });
  if (result.status !== 0) process.exit(result.status ?? 1);
};
run(['bootstrap', ...context, `aws://${LOCALSTACK_ACCOUNT}/us-east-1`]);
run([
  'deploy',
  LOCALSTACK_STACK,
  ...context,
  '--require-approval',
  'never',
  '--outputs-file',
  LOCALSTACK_OUTPUTS,
  ...process.argv.slice(2),
]);
console.log(`deploy:local: outputs in ${LOCALSTACK_OUTPUTS}; now \`npm run test:localstack\`.`);
