import { Duration, Validations } from 'aws-cdk-lib';
import type * as apigw from 'aws-cdk-lib/aws-apigatewayv2';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import type { MediaFunction } from './media-function';

export interface ObservabilityProps {
  stage: string;
  functions: MediaFunction[];
  ingest: sqs.IQueue;
  deadLetterQueues: { name: string; queue: sqs.IQueue }[];
  /** The consumers' event queues. */
  events: sqs.IQueue[];
  httpApi?: apigw.HttpApi;
  /** Powertools' metrics namespace and service (the processor's own counts live there). */
  metricsNamespace: string;
  serviceName: string;
  alarmEmail?: string;
}

/** An upload waiting this long has missed several tries (visibility timeout 12 minutes). */
export const OLDEST_MESSAGE_ALARM_SECONDS = 30 * 60;

const FIVE_MINUTES = Duration.minutes(5);

/**
 * Alarms on what needs a person (anything in a DLQ, function errors and throttles, an ingest
 * backlog, API 5xx) to one SNS topic, and a dashboard of the whole path.
 */
export class Observability extends Construct {
  readonly topic: sns.Topic;
  readonly alarms: cloudwatch.Alarm[] = [];
  readonly dashboard: cloudwatch.Dashboard;

  constructor(scope: Construct, id: string, props: ObservabilityProps) {
    super(scope, id);
    this.topic = new sns.Topic(this, 'Alarms', { displayName: `Media service (${props.stage}) alarms`, enforceSSL: true });
    Validations.of(this.topic).acknowledge({
      id: 'AwsSolutions-SNS2',
      reason:
        'Alarm notifications carry alarm names and metric values, no personal data; CloudWatch cannot publish to a topic encrypted with the AWS-managed SNS key.',
    });
    if (props.alarmEmail) this.topic.addSubscription(new subscriptions.EmailSubscription(props.alarmEmail));

    const alarm = (id: string, metric: cloudwatch.IMetric, description: string, threshold = 1) => {
      const created = new cloudwatch.Alarm(this, id, {
        metric,
        threshold,
        evaluationPeriods: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
        alarmDescription: description,
      });
      created.addAlarmAction(new actions.SnsAction(this.topic));
      created.addOkAction(new actions.SnsAction(this.topic));
      this.alarms.push(created);
      return created;
    };

    for (const { name, queue } of props.deadLetterQueues) {
      alarm(
        `${name}Depth`,
        queue.metricApproximateNumberOfMessagesVisible({ period: FIVE_MINUTES, statistic: 'Maximum' }),
        `Messages in the ${name} dead-letter queue: look at them, fix the cause, then redrive (npm run redrive).`,
      );
    }
    alarm(
      'IngestOldestMessage',
      props.ingest.metricApproximateAgeOfOldestMessage({ period: FIVE_MINUTES, statistic: 'Maximum' }),
      'Uploads have waited over 30 minutes for processing: the processor is failing, throttled or too slow.',
      OLDEST_MESSAGE_ALARM_SECONDS,
    );
    for (const fn of props.functions) {
      alarm(
        `${fn.node.id}Errors`,
        fn.metricErrors({ period: FIVE_MINUTES, statistic: 'Sum' }),
        `${fn.mediaName} failed (unhandled errors).`,
      );
      alarm(`${fn.node.id}Throttles`, fn.metricThrottles({ period: FIVE_MINUTES, statistic: 'Sum' }), `${fn.mediaName} was throttled.`);
    }
    if (props.httpApi) {
      alarm(
        'ApiServerErrors',
        props.httpApi.metricServerError({ period: FIVE_MINUTES, statistic: 'Sum' }),
        'The HTTP API answered 5xx.',
        5,
      );
    }

    const service = (metricName: string, statistic = 'Sum') =>
      new cloudwatch.Metric({
        namespace: props.metricsNamespace,
        metricName,
        dimensionsMap: { service: props.serviceName },
        statistic,
        period: FIVE_MINUTES,
      });
    const perFunction = (title: string, metric: (fn: MediaFunction) => cloudwatch.IMetric) =>
      new cloudwatch.GraphWidget({ title, width: 12, left: props.functions.map(metric) });

    this.dashboard = new cloudwatch.Dashboard(this, 'Dashboard', {
      dashboardName: `media-service-${props.stage}`,
      defaultInterval: Duration.hours(6),
    });
    if (props.httpApi) {
      const api = props.httpApi;
      this.dashboard.addWidgets(
        new cloudwatch.GraphWidget({
          title: 'API requests and errors',
          width: 12,
          left: [
            api.metricCount({ period: FIVE_MINUTES }),
            api.metricClientError({ period: FIVE_MINUTES }),
            api.metricServerError({ period: FIVE_MINUTES }),
          ],
        }),
        new cloudwatch.GraphWidget({
          title: 'API latency',
          width: 12,
          left: ['p50', 'p90', 'p99'].map((statistic) => api.metricLatency({ period: FIVE_MINUTES, statistic })),
        }),
      );
    }
    this.dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: 'Uploads',
        width: 12,
        left: ['UploadsReady', 'UploadsRejected', 'ProcessingFailures', 'IgnoredRecords'].map((name) => service(name)),
      }),
      new cloudwatch.GraphWidget({
        title: 'Processing time (ms)',
        width: 12,
        left: ['p50', 'p90', 'p99'].map((statistic) => service('ProcessingTime', statistic)),
      }),
      new cloudwatch.GraphWidget({
        title: 'Ingest queue',
        width: 12,
        left: [props.ingest.metricApproximateNumberOfMessagesVisible({ period: FIVE_MINUTES })],
        right: [props.ingest.metricApproximateAgeOfOldestMessage({ period: FIVE_MINUTES })],
      }),
      new cloudwatch.GraphWidget({
        title: 'Dead letters and outbound events',
        width: 12,
        left: [
          ...props.deadLetterQueues.map(({ queue }) =>
            queue.metricApproximateNumberOfMessagesVisible({ period: FIVE_MINUTES, statistic: 'Maximum' }),
          ),
          ...props.events.map((queue) => queue.metricApproximateNumberOfMessagesVisible({ period: FIVE_MINUTES })),
        ],
      }),
      perFunction('Invocations', (fn) => fn.metricInvocations({ period: FIVE_MINUTES })),
      perFunction('Errors', (fn) => fn.metricErrors({ period: FIVE_MINUTES })),
      perFunction('Throttles', (fn) => fn.metricThrottles({ period: FIVE_MINUTES })),
      perFunction('Duration p90', (fn) => fn.metricDuration({ period: FIVE_MINUTES, statistic: 'p90' })),
    );
  }
}
