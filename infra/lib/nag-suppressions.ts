import { Stack, Validations, type CfnElement } from 'aws-cdk-lib';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import type { KeyPrefix } from './function-access';
import { FUNCTION_ACCESS } from './function-access';
import type { MediaFunction } from './media-function';

/**
 * The cdk-nag findings the security review accepted for the service's own functions, each with its
 * reason. Acknowledgements of a single resource's findings live with that resource's construct.
 */
export function acknowledgeFunctionFindings(fn: MediaFunction, bucket: s3.IBucket): void {
  const managed = (policy: string) => `Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/${policy}`;
  const acknowledgements = [
    {
      id: `AwsSolutions-IAM4[${managed('AWSLambdaBasicExecutionRole')}]`,
      reason: 'AWSLambdaBasicExecutionRole only lets the function write its own logs.',
    },
    ...(fn.isBoundToVpc
      ? [
          {
            id: `AwsSolutions-IAM4[${managed('AWSLambdaVPCAccessExecutionRole')}]`,
            reason: "AWSLambdaVPCAccessExecutionRole only manages the network interfaces the function's VPC placement needs.",
          },
        ]
      : []),
  ];
  const bucketId = Stack.of(bucket).getLogicalId(bucket.node.defaultChild as CfnElement);
  const prefixes = new Set<KeyPrefix>(FUNCTION_ACCESS[fn.mediaName].objects.flatMap((o) => o.prefixes));
  for (const prefix of prefixes) {
    acknowledgements.push({
      id: `AwsSolutions-IAM5[Resource::<${bucketId}.Arn>/${prefix}*]`,
      reason: `Objects under ${prefix} are named by tenant and media id at run time; the grant covers that prefix only, never the whole bucket (infra/lib/function-access.ts).`,
    });
  }
  Validations.of(fn).acknowledge(...acknowledgements);
}

/** Functions that aws-cdk-lib itself adds: S3 notification wiring, bucket clean-up of disposable stages. */
const FRAMEWORK_FUNCTIONS: { idPrefix: string; what: string }[] = [
  { idPrefix: 'BucketNotificationsHandler', what: 'configures the bucket notifications at deploy time' },
  { idPrefix: 'Custom::S3AutoDeleteObjects', what: 'empties the buckets when a disposable stage is destroyed' },
];

export function acknowledgeFrameworkFindings(stack: Stack): void {
  for (const child of stack.node.children) {
    const framework = FRAMEWORK_FUNCTIONS.find((f) => child.node.id.startsWith(f.idPrefix));
    if (!framework) continue;
    Validations.of(child).acknowledge({
      id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
      reason: `An aws-cdk-lib function that ${framework.what}; its managed policy only lets it write its own logs.`,
    });
  }
}
