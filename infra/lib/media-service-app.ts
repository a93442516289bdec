import { App, Validations, type AppProps } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { MediaServiceStack } from './media-service-stack';
import { settingsFromContext } from './settings';

/**
 * The CDK app: one MediaServiceStack named for its stage (and profile), checked by cdk-nag's
 * AwsSolutions rules on every synth (an unsuppressed finding fails it).
 *
 * The stack is environment-agnostic, so `cdk synth` needs no account, credentials or look-ups,
 * except when an existing VPC is reused: that look-up needs the account and region of the CLI.
 */
export function createMediaServiceApp({ checks = true, ...props }: AppProps & { checks?: boolean } = {}): {
  app: App;
  stack: MediaServiceStack;
} {
  const app = new App(props);
  const settings = settingsFromContext((key) => app.node.tryGetContext(key));
  const name = settings.profile === 'localstack' ? `MediaService-${settings.stage}-local` : `MediaService-${settings.stage}`;
  const env = settings.vpcId ? { account: process.env.CDK_DEFAULT_ACCOUNT, region: process.env.CDK_DEFAULT_REGION } : undefined;
  const stack = new MediaServiceStack(app, name, { settings, env });
  if (checks) Validations.of(app).addPlugins(new AwsSolutionsChecks(app, { verbose: true, writeSuppressionsToCloudFormation: true }));
  return { app, stack };
}
