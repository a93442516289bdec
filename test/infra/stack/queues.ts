import { Match } from 'aws-cdk-lib/assertions';
import type { IConstruct } from 'constructs';
import { describe, expect, it } from 'vitest';
import { resourcesOf, synthesize } from '../synth';

const { template, stack, idOf } = synthesize();
const queues = resourcesOf(template, 'AWS::SQS::Queue');
const { ingest, ingestDeadLetters, eventsTopic, consumers } = stack.queues;
const processor = resourcesOf(template, 'AWS::Lambda::Function')[idOf(stack.processing.processor)].Properties;
const subscriptions = Object.values(resourcesOf(template, 'AWS::SNS::Subscription')).map((s) => s.Properties);

/**
 * Who receives which events, written by hand from the access policy: a service gets the full
 * events of the purposes it may read across its school; analytics, which may read no media, the
 * counts-level cut of every purpose; nobody else gets a queue.
 */
const EXPECTED_FILTERS: Record<string, Record<string, string[]>> = {
  'ai-service': { audience: ['full'], purpose: ['profile', 'attendance', 'training'] },
  'attendance-service': { audience: ['full'], purpose: ['attendance'] },
  'user-service': { audience: ['full'], purpose: ['profile'] },
  'analytics-service': { audience: ['counts'], purpose: ['profile', 'attendance', 'training', 'general'] },
};

const consumer = (name: string) => consumers[name as keyof typeof consumers]!;

describe('the queues', () => {
  it('encrypts every queue at rest (SSE-SQS)', () => {
    // ingest and videos with their DLQs, a queue and a DLQ for each of the four consumers, rights jobs and face jobs with their DLQs.
    expect(Object.keys(queues)).toHaveLength(16);
    for (const [id, queue] of Object.entries(queues)) expect(queue.Properties.SqsManagedSseEnabled, id).toBe(true);
  });

  it('refuses any request to a queue that does not use TLS', () => {
    for (const id of Object.keys(queues)) {
      template.hasResourceProperties('AWS::SQS::QueuePolicy', {
        Queues: [{ Ref: id }],
        PolicyDocument: {
          Statement: Match.arrayWith([
            Match.objectLike({ Effect: 'Deny', Action: 'sqs:*', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
          ]),
        },
      });
    }
  });

  it('moves an upload message to the ingest DLQ after five receives', () => {
    expect(queues[idOf(ingest)].Properties.RedrivePolicy).toEqual({
      deadLetterTargetArn: { 'Fn::GetAtt': [idOf(ingestDeadLetters), 'Arn'] },
      maxReceiveCount: 5,
    });
  });

  it("moves a video message to the video DLQ after five receives, hidden six times the video function's timeout in flight", () => {
    const videoFunction = resourcesOf(template, 'AWS::Lambda::Function')[idOf(stack.processing.videoProcessor)].Properties;
    expect(queues[idOf(stack.queues.videos)].Properties.RedrivePolicy).toEqual({
      deadLetterTargetArn: { 'Fn::GetAtt': [idOf(stack.queues.videoDeadLetters), 'Arn'] },
      maxReceiveCount: 5,
    });
    expect(queues[idOf(stack.queues.videos)].Properties.VisibilityTimeout).toBeGreaterThanOrEqual(6 * videoFunction.Timeout);
  });

  it('hides a message in flight for at least six times the processor timeout', () => {
    expect(processor.Timeout).toBe(900);
    expect(queues[idOf(ingest)].Properties.VisibilityTimeout).toBeGreaterThanOrEqual(6 * processor.Timeout);
  });

  it("gives every consumer's events queue a DLQ of its own, also after five receives", () => {
    expect(Object.keys(consumers).sort()).toEqual(Object.keys(EXPECTED_FILTERS).sort());
    for (const name of Object.keys(EXPECTED_FILTERS)) {
      expect(queues[idOf(consumer(name).queue)].Properties.RedrivePolicy, name).toEqual({
        deadLetterTargetArn: { 'Fn::GetAtt': [idOf(consumer(name).deadLetters), 'Arn'] },
        maxReceiveCount: 5,
      });
    }
  });

  it('keeps dead letters for the longest time SQS allows, 14 days', () => {
    for (const dlq of [ingestDeadLetters, ...Object.values(consumers).map((c) => c!.deadLetters)]) {
      expect(queues[idOf(dlq)].Properties.MessageRetentionPeriod).toBe(14 * 86_400);
    }
  });
});

describe('the outbound events topic', () => {
  const topic = resourcesOf(template, 'AWS::SNS::Topic')[idOf(eventsTopic)].Properties;

  it('is encrypted at rest and refuses publishing without TLS', () => {
    expect(JSON.stringify(topic.KmsMasterKeyId)).toContain('alias/aws/sns');
    template.hasResourceProperties('AWS::SNS::TopicPolicy', {
      Topics: [{ Ref: idOf(eventsTopic) }],
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Deny', Action: 'sns:Publish', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
        ]),
      },
    });
  });

  it('has exactly one subscription per consumer queue, raw delivery, filtered to what the consumer may read', () => {
    const onTopic = subscriptions.filter((s) => JSON.stringify(s.TopicArn) === JSON.stringify({ Ref: idOf(eventsTopic) }));
    expect(onTopic).toHaveLength(Object.keys(EXPECTED_FILTERS).length);
    for (const [name, filter] of Object.entries(EXPECTED_FILTERS)) {
      const found = onTopic.filter(
        (s) => JSON.stringify(s.Endpoint) === JSON.stringify({ 'Fn::GetAtt': [idOf(consumer(name).queue), 'Arn'] }),
      );
      expect(found, name).toHaveLength(1);
      expect(found[0], name).toMatchObject({ Protocol: 'sqs', RawMessageDelivery: true, FilterPolicy: filter });
      // Filters apply to message attributes, where the publisher names the audience and the purpose.
      expect(found[0].FilterPolicyScope ?? 'MessageAttributes', name).toBe('MessageAttributes');
    }
  });

  it('lets only the topic send to a consumer queue', () => {
    for (const name of Object.keys(EXPECTED_FILTERS)) {
      template.hasResourceProperties('AWS::SQS::QueuePolicy', {
        Queues: [{ Ref: idOf(consumer(name).queue) }],
        PolicyDocument: {
          Statement: Match.arrayWith([
            Match.objectLike({
              Effect: 'Allow',
              Action: 'sqs:SendMessage',
              Principal: { Service: 'sns.amazonaws.com' },
              Condition: { ArnEquals: { 'aws:SourceArn': { Ref: idOf(eventsTopic) } } },
            }),
          ]),
        },
      });
    }
  });
});

describe('the processor event sources', () => {
  // The rights-jobs queue's mapping to the sweeper, and the face queue's to detect-faces, have their own tests below.
  const mappings = Object.values(resourcesOf(template, 'AWS::Lambda::EventSourceMapping')).filter(
    (m) =>
      ![stack.rightsJobs.queue, stack.faces.queue].some(
        (queue) => JSON.stringify(m.Properties.EventSourceArn) === JSON.stringify({ 'Fn::GetAtt': [idOf(queue), 'Arn'] }),
      ),
  );
  const fed = (fn: IConstruct) =>
    mappings.find((m) => JSON.stringify(m.Properties.FunctionName) === JSON.stringify({ Ref: idOf(fn) }))!.Properties;
  const photos = () => fed(stack.processing.processor);
  const videos = () => fed(stack.processing.videoProcessor);

  it('feed the ingest queue to process-upload, the video queue to process-video, and nothing else but rights and face jobs to anything', () => {
    expect(mappings).toHaveLength(2);
    expect(photos().EventSourceArn).toEqual({ 'Fn::GetAtt': [idOf(ingest), 'Arn'] });
    expect(videos().EventSourceArn).toEqual({ 'Fn::GetAtt': [idOf(stack.queues.videos), 'Arn'] });
  });

  it('report partial batch failures, so only the failed records come back', () => {
    for (const mapping of [photos(), videos()]) expect(mapping.FunctionResponseTypes).toEqual(['ReportBatchItemFailures']);
  });

  it('poll photos in small batches and videos one at a time, with a concurrency ceiling equal to the reserved concurrency', () => {
    expect(photos().BatchSize).toBe(5);
    expect(photos().ScalingConfig).toEqual({ MaximumConcurrency: processor.ReservedConcurrentExecutions });
    expect(videos().BatchSize).toBe(1);
  });
});

describe('the rights-jobs queue', () => {
  const { queue, deadLetters } = stack.rightsJobs;
  const functions = resourcesOf(template, 'AWS::Lambda::Function');
  const sweeper = functions[idOf(stack.processing.sweeper)].Properties;
  const mediaApi = functions[idOf(stack.api.functions['media-api'])].Properties;

  it('feeds the sweeper one job at a time, reporting a failed job alone', () => {
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      EventSourceArn: { 'Fn::GetAtt': [idOf(queue), 'Arn'] },
      FunctionName: { Ref: idOf(stack.processing.sweeper) },
      BatchSize: 1,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
    });
  });

  it('tells media-api and the sweeper where it is, and rests a message in its DLQ after five receives', () => {
    for (const fn of [mediaApi, sweeper]) expect(fn.Environment.Variables.MEDIA_RIGHTS_QUEUE_URL).toEqual({ Ref: idOf(queue) });
    expect(queues[idOf(queue)].Properties.RedrivePolicy).toEqual({
      deadLetterTargetArn: { 'Fn::GetAtt': [idOf(deadLetters), 'Arn'] },
      maxReceiveCount: 5,
    });
    // A job can take the sweeper's whole timeout: never handed out twice meanwhile.
    expect(queues[idOf(queue)].Properties.VisibilityTimeout).toBeGreaterThanOrEqual(sweeper.Timeout * 6);
  });
});
