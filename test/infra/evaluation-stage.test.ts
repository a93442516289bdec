/**
 * The evaluation stage (`-c media:stage=eval`, docs/operations.md § An evaluation deploy) leaves
 * nothing behind on `cdk destroy`; every other stage keeps the data unless told otherwise.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../../infra/lib/repo';
import { deployShape } from '../../infra/lib/deploy-shape';
import { resourcesOf, synthesize } from './synth';

// CloudFormation JSON: shapes vary by resource type.
type Json = any;

const resources = (context: Record<string, unknown>): [string, Json][] =>
  Object.entries(synthesize(context).template.toJSON().Resources as Record<string, Json>);

/** What `cdk destroy` would leave: resources with a policy other than Delete, and clusters protected from deletion. */
function keptOnDestroy(context: Record<string, unknown>): string[] {
  const kept: string[] = [];
  for (const [id, resource] of resources(context)) {
    for (const policy of ['DeletionPolicy', 'UpdateReplacePolicy'] as const) {
      if (resource[policy] !== undefined && resource[policy] !== 'Delete')
        kept.push(`${id} (${resource.Type}): ${policy} ${resource[policy]}`);
    }
    if (resource.Properties?.DeletionProtection === true) kept.push(`${id} (${resource.Type}): DeletionProtection`);
  }
  return kept;
}

describe('the evaluation stage', () => {
  const EVAL = { 'media:stage': 'eval' };

  it('keeps nothing on cdk destroy: every resource is deleted, no snapshot, no deletion protection', () => {
    expect(keptOnDestroy(EVAL)).toEqual([]);
  });

  it('deletes the database cluster and its instance explicitly (a cluster with no policy would leave a snapshot)', () => {
    const { template } = synthesize(EVAL);
    for (const type of ['AWS::RDS::DBCluster', 'AWS::RDS::DBInstance']) {
      const found = Object.values(resourcesOf(template, type));
      expect(found.length, type).toBeGreaterThan(0);
      for (const resource of found) expect({ type, policy: resource.DeletionPolicy }).toEqual({ type, policy: 'Delete' });
    }
    for (const cluster of Object.values(resourcesOf(template, 'AWS::RDS::DBCluster'))) {
      expect(cluster.Properties.DeletionProtection ?? false).toBe(false);
    }
  });

  it('empties each bucket before deleting it, and deletes every log group', () => {
    const { template } = synthesize(EVAL);
    const buckets = Object.keys(resourcesOf(template, 'AWS::S3::Bucket'));
    const emptied = Object.values(resourcesOf(template, 'Custom::S3AutoDeleteObjects')).map((r) => r.Properties.BucketName.Ref);
    expect(emptied.sort()).toEqual(buckets.sort());
    const logGroups = Object.values(resourcesOf(template, 'AWS::Logs::LogGroup'));
    expect(logGroups.length).toBeGreaterThan(5);
    for (const group of logGroups) expect(group.DeletionPolicy).toBe('Delete');
  });

  it('keeps data when asked to: an explicit media:removalPolicy=retain wins over the stage', () => {
    expect(keptOnDestroy({ ...EVAL, 'media:removalPolicy': 'retain' })).not.toEqual([]);
  });
});

describe('a production stage', () => {
  const PROD = { 'media:stage': 'prod' };

  it('keeps the buckets, queues and log groups, snapshots the database and protects it from deletion', () => {
    const kept = keptOnDestroy(PROD);
    const { template } = synthesize(PROD);
    const count = (type: string) => Object.keys(resourcesOf(template, type)).length;
    const retained = (type: string) => kept.filter((k) => k.includes(`(${type}): DeletionPolicy Retain`)).length;
    expect(retained('AWS::S3::Bucket')).toBe(count('AWS::S3::Bucket'));
    expect(retained('AWS::SQS::Queue')).toBe(count('AWS::SQS::Queue'));
    expect(retained('AWS::Logs::LogGroup')).toBe(count('AWS::Logs::LogGroup'));
    expect(kept.filter((k) => k.includes('AWS::RDS::DBCluster'))).toEqual([
      expect.stringMatching(/: DeletionPolicy Snapshot$/),
      expect.stringMatching(/: UpdateReplacePolicy Snapshot$/),
      expect.stringMatching(/: DeletionProtection$/),
    ]);
    expect(resourcesOf(template, 'Custom::S3AutoDeleteObjects')).toEqual({});
  });
});

/** A synthesized stack as deployShape reads it. */
const shapeOf = (context: Record<string, unknown>) =>
  deployShape(synthesize(context).template.toJSON() as Parameters<typeof deployShape>[0]);

describe('the shape of a first deploy (npm run deploy:shape)', () => {
  it('counts the resources, names the slow ones and what cdk destroy would keep', () => {
    const evaluation = shapeOf({ 'media:stage': 'eval' });
    expect(evaluation.total).toBe(evaluation.byType.reduce((sum, [, count]) => sum + count, 0));
    expect(evaluation.slow.map((s) => s.type)).toEqual(
      expect.arrayContaining(['AWS::RDS::DBInstance', 'AWS::RDS::DBProxy', 'AWS::RDS::DBCluster', 'AWS::EC2::NatGateway']),
    );
    expect(evaluation.keptOnDestroy).toEqual([]);
    // docs/operations.md § The shape of a first deploy states the same counts.
    const stated = readFileSync(join(REPO_ROOT, 'docs', 'operations.md'), 'utf8').replace(/\s+/g, ' ');
    const count = (type: string) => evaluation.byType.find(([t]) => t === type)?.[1];
    const functions = count('AWS::Lambda::Function')!;
    const helpers = functions - 9;
    for (const phrase of [
      `**${evaluation.total} resources**`,
      `${count('AWS::Lambda::Permission')} Lambda permissions`,
      `${count('AWS::ApiGatewayV2::Route')} API routes`,
      `${count('AWS::CloudWatch::Alarm')} alarms`,
      `${count('AWS::SQS::Queue')} queues and their ${count('AWS::SQS::QueuePolicy')} policies`,
      `${count('AWS::IAM::Role')} IAM roles and ${count('AWS::IAM::Policy')} policies`,
      `${functions} functions (9 of the service, ${helpers} of aws-cdk-lib's helpers)`,
      `${count('AWS::Logs::LogGroup')} log groups`,
    ]) {
      expect(stated, 'docs/operations.md states the synthesized counts').toContain(phrase);
    }
    const production = shapeOf({ 'media:stage': 'prod' });
    expect(production.keptOnDestroy).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/\(AWS::RDS::DBCluster\): Snapshot$/),
        expect.stringMatching(/\(AWS::RDS::DBCluster\): deletion protection$/),
      ]),
    );
  });
});
