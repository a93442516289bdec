import { Match } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { resourcesOf, synthesize } from '../synth';

const { template, stack, idOf } = synthesize();
const queues = resourcesOf(template, 'AWS::SQS::Queue');
const { ingest, ingestDeadLetters, events, eventsDeadLetters } = stack.queues;
const processor = resourcesOf(template, 'AWS::Lambda::Function')[idOf(stack.processing.processor)].Properties;

describe('the queues', () => {
  it('encrypts every queue at rest (SSE-SQS)', () => {
    expect(Object.keys(queues)).toHaveLength(4);
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

  it('hides a message in flight for at least six times the processor timeout', () => {
    expect(processor.Timeout).toBe(120);
    expect(queues[idOf(ingest)].Properties.VisibilityTimeout).toBeGreaterThanOrEqual(6 * processor.Timeout);
  });

  it('gives the outbound events queue a DLQ of its own, also after five receives', () => {
    expect(queues[idOf(events)].Properties.RedrivePolicy).toEqual({
      deadLetterTargetArn: { 'Fn::GetAtt': [idOf(eventsDeadLetters), 'Arn'] },
      maxReceiveCount: 5,
    });
  });

  it('keeps dead letters for the longest time SQS allows, 14 days', () => {
    for (const dlq of [ingestDeadLetters, eventsDeadLetters]) expect(queues[idOf(dlq)].Properties.MessageRetentionPeriod).toBe(14 * 86_400);
  });
});

describe('the processor event source', () => {
  const mappings = Object.values(resourcesOf(template, 'AWS::Lambda::EventSourceMapping'));

  it('feeds the ingest queue to process-upload, and nothing else to anything', () => {
    expect(mappings).toHaveLength(1);
    expect(mappings[0].Properties.EventSourceArn).toEqual({ 'Fn::GetAtt': [idOf(ingest), 'Arn'] });
    expect(mappings[0].Properties.FunctionName).toEqual({ Ref: idOf(stack.processing.processor) });
  });

  it('reports partial batch failures, so only the failed records come back', () => {
    expect(mappings[0].Properties.FunctionResponseTypes).toEqual(['ReportBatchItemFailures']);
  });

  it('polls in small batches with a concurrency ceiling equal to the reserved concurrency', () => {
    expect(mappings[0].Properties.BatchSize).toBe(5);
    expect(mappings[0].Properties.ScalingConfig).toEqual({ MaximumConcurrency: processor.ReservedConcurrentExecutions });
  });
});
