import { App, Validations, type AppProps } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { LOCALSTACK_ACCOUNT } from './localstack';
import { MediaServiceStack } from './media-service-stack';
import { settingsFromContext } from './settings';

/**
 * The CDK app: one MediaServiceStack named for its stage (and profile), checked by cdk-nag's
 * AwsSolutions rules on every synth (an unsuppressed finding fails it).
 *
 * The stack is environment-agnostic, so `cdk synth` needs no account, credentials or look-ups,
 * except when an existing VPC is reused: that look-up needs the account and region of the CLI.
 * The localstack profile is pinned to LocalStack's account (see localStackEnvironment).
 */
export function createMediaServiceApp({ checks = true, ...props }: AppProps & { checks?: boolean } = {}): {
  app: App;
  stack: MediaServiceStack;
} {
  const app = new App(props);
  const settings = settingsFromContext((key) => app.node.tryGetContext(key));
  const name = settings.profile === 'localstack' ? `MediaService-${settings.stage}-local` : `MediaService-${settings.stage}`;
  const env =
    settings.profile === 'localstack'
      ? localStackEnvironment()
      : settings.vpcId
        ? { account: process.env.CDK_DEFAULT_ACCOUNT, region: process.env.CDK_DEFAULT_REGION }
        : undefined;
  const stack = new MediaServiceStack(app, name, { settings, env });
  if (checks) Validations.of(app).addPlugins(new AwsSolutionsChecks(app, { verbose: true, writeSuppressionsToCloudFormation: true }));
  return { app, stack };
}

/**
 * The localstack profile carries the public development JWT secret and a throwaway database
 * password, so it must never reach a real account. Three locks: the synth refuses credentials of
 * another account (the CLI passes their account as CDK_DEFAULT_ACCOUNT; cdklocal's is LocalStack's),
 * the stack's account is pinned (so `cdk deploy` refuses any other), and the template's rule
 * (MediaServiceStack) fails a hand-uploaded copy in any other account.
 */
function localStackEnvironment(): { account: string; region?: string } {
  const account = process.env.CDK_DEFAULT_ACCOUNT;
  if (account && account !== LOCALSTACK_ACCOUNT) {
    throw new Error(
      `media:profile=localstack deploys only to LocalStack (account ${LOCALSTACK_ACCOUNT}), but the credentials in use belong to account ${account}: ` +
        'that profile carries the public development JWT secret and a throwaway database password, which must never reach a real account. ' +
        'Deploy to LocalStack with `npm run deploy:local`, or leave out -c media:profile=localstack to deploy the aws profile.',
    );
  }
  return { account: LOCALSTACK_ACCOUNT, region: process.env.CDK_DEFAULT_REGION };
}
