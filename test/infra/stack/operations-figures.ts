import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../../../infra/lib/repo';
import { resourcesOf, serviceFunctions, synthesize } from '../synth';

/**
 * docs/operations.md § Sizes and times, against the template synthesized with the defaults: each
 * row of its two tables, and each figure of its list, by the sentence that states it.
 */
const DOC = readFileSync(join(REPO_ROOT, 'docs', 'operations.md'), 'utf8');
const { template, stack, idOf } = synthesize();
const functions = serviceFunctions(template);
const queues = resourcesOf(template, 'AWS::SQS::Queue');
const mappings = Object.values(resourcesOf(template, 'AWS::Lambda::EventSourceMapping')).map((m) => m.Properties);

/** The rows of the table after `<!-- figures:<name> -->`, as trimmed cells, header and rule left out. */
function tableAfter(name: string): string[][] {
  const start = DOC.indexOf(`<!-- figures:${name} -->`);
  if (start < 0) throw new Error(`docs/operations.md has no <!-- figures:${name} --> table`);
  const lines = DOC.slice(start).split('\n').slice(1);
  const table = lines.slice(
    0,
    lines.findIndex((line) => !line.startsWith('|')),
  );
  return table.slice(2).map((line) =>
    line
      .slice(1, -1)
      .split('|')
      .map((cell) => cell.trim()),
  );
}

/** `900 s` → 900, `none` → null; anything else is a row the test cannot read. */
function figure(cell: string, unit: string): number | null {
  if (cell === 'none') return null;
  const match = new RegExp(`^(\\d+) ${unit}$`).exec(cell);
  if (!match) throw new Error(`"${cell}" is not a figure in ${unit}`);
  return Number(match[1]);
}

const COUNTS: Record<string, number> = { four: 4, eight: 8 };

/** The queues a row of the queue table speaks of, by its first cell. */
function queuesOfRow(label: string): string[] {
  const consumers = Object.values(stack.queues.consumers);
  const rows: Record<string, string[]> = {
    ingest: [idOf(stack.queues.ingest)],
    videos: [idOf(stack.queues.videos)],
    'rights jobs': [idOf(stack.rightsJobs.queue)],
    'face jobs': [idOf(stack.faces.queue)],
    "each consumer's events queue": consumers.map((c) => idOf(c.queue)),
    'every dead-letter queue': [
      idOf(stack.queues.ingestDeadLetters),
      idOf(stack.queues.videoDeadLetters),
      idOf(stack.rightsJobs.deadLetters),
      idOf(stack.faces.deadLetters),
      ...consumers.map((c) => idOf(c.deadLetters)),
    ],
  };
  const [, name, count] = /^(.*?)(?: \((\w+)\))?$/.exec(label)!;
  const ids = rows[name!];
  if (!ids) throw new Error(`the queue table names "${label}", which this test does not know`);
  if (count) expect(ids, label).toHaveLength(COUNTS[count]!);
  return ids;
}

const arnOf = (id: string) => ({ 'Fn::GetAtt': [id, 'Arn'] });

describe('docs/operations.md § Sizes and times', () => {
  const functionRows = tableAfter('functions');
  const queueRows = tableAfter('queues');

  it('has a row for every function of the service, and for every queue', () => {
    expect(functionRows.map(([name]) => name!.replaceAll('`', '')).sort()).toEqual(Object.keys(functions).sort());
    expect(queueRows.flatMap(([label]) => queuesOfRow(label!)).sort()).toEqual(Object.keys(queues).sort());
  });

  it.each(tableAfter('functions'))(
    '%s: timeout %s, memory %s, /tmp %s, reserved concurrency %s',
    (name, timeout, memory, tmp, reserved) => {
      const props = functions[name!.replaceAll('`', '')]!.props;
      expect(props.Timeout).toBe(figure(timeout!, 's'));
      expect(props.MemorySize).toBe(figure(memory!, 'MB'));
      // Without EphemeralStorage Lambda gives 512 MB.
      expect(props.EphemeralStorage?.Size ?? 512).toBe(figure(tmp!, 'MB'));
      expect(props.ReservedConcurrentExecutions ?? null).toBe(reserved === 'none' ? null : Number(reserved));
    },
  );

  it.each(tableAfter('queues'))(
    '%s: visibility %s, kept %s, to its DLQ after %s, read by %s',
    (label, visibility, kept, receives, reader) => {
      for (const id of queuesOfRow(label!)) {
        const props = queues[id].Properties;
        // Without them SQS takes 30 s and 4 days.
        expect(props.VisibilityTimeout ?? 30, id).toBe(figure(visibility!, 's'));
        expect((props.MessageRetentionPeriod ?? 345_600) / 86_400, id).toBe(figure(kept!, 'days'));
        expect(props.RedrivePolicy?.maxReceiveCount ?? null, id).toBe(figure(receives!, 'receives'));

        const readers = mappings.filter((m) => JSON.stringify(m.EventSourceArn) === JSON.stringify(arnOf(id)));
        const read = /^`([a-z-]+)`, batches of (\d+)(?:, at most (\d+) at once)?$/.exec(reader!);
        if (!read) {
          // Read by another service (its own consumer), or by nobody: no function of ours is fed by it.
          expect(readers, id).toEqual([]);
          continue;
        }
        const [, name, batch, atOnce] = read;
        expect(readers, id).toHaveLength(1);
        expect(readers[0].FunctionName).toEqual({ Ref: functions[name!]!.id });
        expect(readers[0].BatchSize).toBe(Number(batch));
        expect(readers[0].FunctionResponseTypes).toEqual(['ReportBatchItemFailures']);
        expect(readers[0].ScalingConfig?.MaximumConcurrency ?? null).toBe(atOnce ? Number(atOnce) : null);
      }
    },
  );

  it('makes each visibility timeout 6 × the timeout of the function that reads the queue, as it says', () => {
    expect(DOC).toContain(
      'The visibility timeouts are 6 × the timeout of the function that reads the queue (900 s; `detect-faces`: 120 s)',
    );
    for (const m of mappings) {
      const reader = Object.values(functions).find((f) => JSON.stringify(m.FunctionName) === JSON.stringify({ Ref: f.id }))!;
      expect(queues[m.EventSourceArn['Fn::GetAtt'][0]].Properties.VisibilityTimeout).toBe(6 * reader.props.Timeout);
      expect(reader.props.Timeout).toBe(reader.id === functions['detect-faces']!.id ? 120 : 900);
    }
  });

  const bucketRule = (bucket: string, id: string) =>
    resourcesOf(template, 'AWS::S3::Bucket')[bucket].Properties.LifecycleConfiguration.Rules.find((r: { Id: string }) => r.Id === id);
  const media = idOf(stack.storage.bucket);
  const cluster = () => Object.values(resourcesOf(template, 'AWS::RDS::DBCluster'))[0].Properties;
  const alarms = Object.values(resourcesOf(template, 'AWS::CloudWatch::Alarm')).map((a) => a.Properties);

  /** Each figure of the list, by the words that state it, and what the template must hold for them to be true. */
  const FIGURES: [sentence: string, check: () => void][] = [
    [
      '`incoming/` expires after 1 day',
      () => expect(bucketRule(media, 'expire-incoming')).toMatchObject({ Prefix: 'incoming/', ExpirationInDays: 1 }),
    ],
    [
      '`scratch/` after 1 day',
      () => expect(bucketRule(media, 'expire-scratch')).toMatchObject({ Prefix: 'scratch/', ExpirationInDays: 1 }),
    ],
    [
      '`exports/` after 7 days',
      () => expect(bucketRule(media, 'expire-exports')).toMatchObject({ Prefix: 'exports/', ExpirationInDays: 7 }),
    ],
    [
      'incomplete multipart\n  uploads are aborted after 1 day',
      () =>
        expect(bucketRule(media, 'abort-incomplete-multipart-uploads').AbortIncompleteMultipartUpload).toEqual({ DaysAfterInitiation: 1 }),
    ],
    [
      'attendance originals go to Standard-IA after 90 days',
      () =>
        expect(bucketRule(media, 'attendance-originals-to-infrequent-access')).toMatchObject({
          Prefix: 'originals/',
          TagFilters: [{ Key: 'purpose', Value: 'attendance' }],
          Transitions: [{ StorageClass: 'STANDARD_IA', TransitionInDays: 90 }],
        }),
    ],
    [
      'access-log bucket expires its objects after 365 days',
      () => expect(bucketRule(idOf(stack.storage.accessLogs), 'expire-access-logs').ExpirationInDays).toBe(365),
    ],
    [
      'every log group keeps 30 days',
      () => {
        const groups = Object.values(resourcesOf(template, 'AWS::Logs::LogGroup'));
        expect(groups.length).toBeGreaterThan(0);
        for (const group of groups) expect(group.Properties.RetentionInDays).toBe(30);
      },
    ],
    [
      'the sweeper runs every 5 minutes',
      () =>
        expect(resourcesOf(template, 'AWS::Events::Rule')[idOf(stack.processing.schedule)].Properties.ScheduleExpression).toBe(
          'rate(5 minutes)',
        ),
    ],
    [
      'the retention run once a day (02:30 UTC)',
      () =>
        expect(resourcesOf(template, 'AWS::Events::Rule')[idOf(stack.processing.retentionSchedule)].Properties.ScheduleExpression).toBe(
          'cron(30 2 * * ? *)',
        ),
    ],
    ['Aurora PostgreSQL 16', () => expect(cluster().EngineVersion).toMatch(/^16\./)],
    ['0.5 to 4 ACUs', () => expect(cluster().ServerlessV2ScalingConfiguration).toEqual({ MinCapacity: 0.5, MaxCapacity: 4 })],
    ['7-day backups', () => expect(cluster().BackupRetentionPeriod).toBe(7)],
    [
      'both secrets rotated every 30 days',
      () => {
        const schedules = Object.values(resourcesOf(template, 'AWS::SecretsManager::RotationSchedule'));
        expect(schedules).toHaveLength(2);
        for (const s of schedules) expect(s.Properties.RotationRules.ScheduleExpression).toBe('rate(30 days)');
      },
    ],
    [
      'any message in a dead-letter queue',
      () => {
        const depths = alarms.filter((a) => a.MetricName === 'ApproximateNumberOfMessagesVisible');
        expect(depths).toHaveLength(8);
        for (const a of depths) expect([a.Threshold, a.ComparisonOperator]).toEqual([1, 'GreaterThanOrEqualToThreshold']);
      },
    ],
    [
      'an ingest message older than 1800 s',
      () => expect(alarms.filter((a) => a.MetricName === 'ApproximateAgeOfOldestMessage').map((a) => a.Threshold)).toEqual([1800]),
    ],
    [
      'any error\n  or throttle of a function (each over 300 s)',
      () => {
        const perFunction = alarms.filter((a) => a.MetricName === 'Errors' || a.MetricName === 'Throttles');
        expect(perFunction).toHaveLength(2 * Object.keys(functions).length);
        for (const a of perFunction) expect([a.Threshold, a.Period]).toEqual([1, 300]);
      },
    ],
    [
      '5 or more API 5xx in 300 s',
      () => expect(alarms.filter((a) => a.MetricName === '5xx').map((a) => [a.Threshold, a.Period])).toEqual([[5, 300]]),
    ],
    [
      '50 requests/s, bursts of 100',
      () =>
        expect(Object.values(resourcesOf(template, 'AWS::ApiGatewayV2::Stage'))[0].Properties.DefaultRouteSettings).toEqual({
          ThrottlingRateLimit: 50,
          ThrottlingBurstLimit: 100,
        }),
    ],
    ['1 NAT gateway', () => expect(Object.keys(resourcesOf(template, 'AWS::EC2::NatGateway'))).toHaveLength(1)],
  ];

  const list = (() => {
    // The bullets after the sentence that announces them, to the next blank line.
    const start = DOC.indexOf('\n- ', DOC.indexOf('Other figures of the template:'));
    return DOC.slice(start, DOC.indexOf('\n\n', start));
  })();

  it.each(FIGURES)('%s', (sentence, check) => {
    expect(list, 'the sentence is in the list').toContain(sentence);
    check();
  });

  it('checks every figure of the list: no number stands outside a sentence checked above', () => {
    expect(list).toContain('- the media bucket');
    let unchecked = list;
    for (const [sentence] of FIGURES) unchecked = unchecked.replace(sentence, '');
    expect(unchecked.match(/\d[\d.:]*/g) ?? []).toEqual([]);
  });
});
