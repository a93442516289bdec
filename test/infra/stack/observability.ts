import { describe, expect, it } from 'vitest';
import { resourcesOf, serviceFunctions, synthesize } from '../synth';

const { template, stack, idOf } = synthesize();
const alarms = Object.values(resourcesOf(template, 'AWS::CloudWatch::Alarm')).map((a) => a.Properties);
const functions = serviceFunctions(template);
const topic = idOf(stack.observability.topic);

const alarmOn = (metric: string, dimension: unknown) =>
  alarms.filter((a) => a.MetricName === metric && JSON.stringify(a.Dimensions).includes(JSON.stringify(dimension)));

describe('the alarms', () => {
  it("fire as soon as one message rests in any dead-letter queue, the ingest one, the video one or a consumer's", () => {
    const consumers = Object.values(stack.queues.consumers);
    expect(consumers).toHaveLength(4);
    for (const dlq of [
      stack.queues.ingestDeadLetters,
      stack.queues.videoDeadLetters,
      stack.rightsJobs.deadLetters,
      ...consumers.map((c) => c!.deadLetters),
    ]) {
      const found = alarmOn('ApproximateNumberOfMessagesVisible', { 'Fn::GetAtt': [idOf(dlq), 'QueueName'] });
      expect(found).toHaveLength(1);
      expect(found[0]).toMatchObject({
        Namespace: 'AWS/SQS',
        Threshold: 1,
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
        Statistic: 'Maximum',
      });
    }
  });

  it('fire when the oldest upload waits over 30 minutes', () => {
    const found = alarmOn('ApproximateAgeOfOldestMessage', { 'Fn::GetAtt': [idOf(stack.queues.ingest), 'QueueName'] });
    expect(found).toHaveLength(1);
    expect(found[0]).toMatchObject({ Threshold: 1800, ComparisonOperator: 'GreaterThanOrEqualToThreshold' });
  });

  it('fire on any error and any throttle of every service function', () => {
    for (const [name, fn] of Object.entries(functions)) {
      for (const metric of ['Errors', 'Throttles']) {
        const found = alarmOn(metric, { Name: 'FunctionName', Value: { Ref: fn.id } });
        expect(found, `${name} ${metric}`).toHaveLength(1);
        expect(found[0], `${name} ${metric}`).toMatchObject({ Namespace: 'AWS/Lambda', Threshold: 1, Statistic: 'Sum' });
      }
    }
  });

  it('fire when the HTTP API answers 5xx', () => {
    expect(alarms.filter((a) => a.Namespace === 'AWS/ApiGateway' && a.MetricName === '5xx')).toHaveLength(1);
  });

  it('all notify the alarm topic, when they fire and when they clear', () => {
    // Eight DLQs (ingest, videos, four consumers, rights jobs, face jobs), the ingest backlog, errors and throttles of nine functions, API 5xx.
    expect(alarms.length).toBe(8 + 1 + 2 * 9 + 1);
    for (const alarm of alarms) {
      expect(alarm.AlarmActions).toEqual([{ Ref: topic }]);
      expect(alarm.OKActions).toEqual([{ Ref: topic }]);
      expect(alarm.TreatMissingData).toBe('notBreaching');
    }
  });

  it('reach that topic only over TLS', () => {
    const policy = Object.values(resourcesOf(template, 'AWS::SNS::TopicPolicy')).find(
      (p) => JSON.stringify(p.Properties.Topics) === JSON.stringify([{ Ref: topic }]),
    )!.Properties.PolicyDocument.Statement;
    expect(policy).toContainEqual(expect.objectContaining({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }));
  });
});

describe('the dashboard', () => {
  const dashboards = Object.values(resourcesOf(template, 'AWS::CloudWatch::Dashboard')).map((d) => d.Properties);
  const body = JSON.stringify(dashboards[0]?.DashboardBody);

  it('is named for the stage', () => {
    expect(dashboards).toHaveLength(1);
    expect(dashboards[0].DashboardName).toBe('media-service-dev');
  });

  it("shows the processor's own Powertools metrics, the API, the queues and every function", () => {
    for (const text of [
      'MediaService/dev',
      'UploadsReady',
      'UploadsRejected',
      'ProcessingTime',
      'AWS/ApiGateway',
      'ApproximateAgeOfOldestMessage',
    ]) {
      expect(body, text).toContain(text);
    }
    for (const fn of Object.values(functions)) expect(body).toContain(fn.id);
  });
});
