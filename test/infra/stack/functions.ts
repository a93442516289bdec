import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '@media/core';
import { sharpForLambda } from '../../../infra/lib/media-function';
import { REPO_ROOT } from '../../../infra/lib/repo';
import { resourcesOf, serviceFunctions, synthesize } from '../synth';

const { template, stack, idOf } = synthesize();
const functions = serviceFunctions(template);
const NAMES = [
  'request-upload',
  'get-download',
  'media-api',
  'process-upload',
  'process-video',
  'transform-video',
  'sweeper',
  'migrate',
  'detect-faces',
];
/** The functions that read the service's configuration: all but migrate and the transform, which read their own. */
const CONFIGURED_NAMES = NAMES.filter((n) => n !== 'migrate' && n !== 'transform-video');

/** What a function's environment would be once CloudFormation resolved its references. */
function resolvedEnvironment(variables: Record<string, unknown>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(variables).map(([k, v]) => [k, typeof v === 'string' ? v : `https://resolved.example/${k.toLowerCase()}`]),
  );
}

describe('the service functions', () => {
  it('are the eight of functions/*', () => {
    expect(Object.keys(functions).sort()).toEqual([...NAMES].sort());
  });

  it('run Node.js 24 on arm64, every one of them', () => {
    for (const [name, { props }] of Object.entries(functions)) {
      expect(props.Runtime, name).toBe('nodejs24.x');
      expect(props.Architectures, name).toEqual(['arm64']);
    }
  });

  it('besides them, only aws-cdk-lib deploy-time helpers exist (bucket notifications, default security group, custom-resource framework)', () => {
    const others = Object.keys(resourcesOf(template, 'AWS::Lambda::Function')).filter(
      (id) => !Object.values(functions).some((f) => f.id === id),
    );
    expect(others.map((id) => id.replace(/[0-9A-F]{8}$/, '')).sort()).toEqual([
      'BucketNotificationsHandler050a0587b7544547bf325f094a3db834',
      'CustomVpcRestrictDefaultSGCustomResourceProviderHandler',
      'MigrationsProviderframeworkonEvent',
    ]);
  });

  it('each write to a log group of their own that keeps logs 30 days', () => {
    const groups = resourcesOf(template, 'AWS::Logs::LogGroup');
    const used = new Set<string>();
    for (const [name, { props }] of Object.entries(functions)) {
      const group = props.LoggingConfig.LogGroup.Ref as string;
      expect(groups[group]?.Properties.RetentionInDays, name).toBe(30);
      used.add(group);
    }
    expect(used.size).toBe(NAMES.length);
  });

  it('carry the Powertools service name and metrics namespace', () => {
    for (const [name, { props }] of Object.entries(functions)) {
      expect(props.Environment.Variables.POWERTOOLS_SERVICE_NAME, name).toBe('media-service');
      expect(props.Environment.Variables.POWERTOOLS_METRICS_NAMESPACE, name).toBe('MediaService/dev');
    }
  });

  it('give every function that reads the service configuration one that passes its validation', () => {
    for (const name of CONFIGURED_NAMES) {
      const env = resolvedEnvironment(functions[name]!.props.Environment.Variables);
      expect(() => loadConfig(env), name).not.toThrow();
      expect(loadConfig(env).database.iamAuth, name).toBe(true);
    }
  });

  it("keep the service's own retention and quotas when the operator sets none", () => {
    const config = loadConfig(resolvedEnvironment(functions.sweeper!.props.Environment.Variables));
    expect(config.retention).toEqual({ mediaDays: { attendance: 400 }, auditDays: 730 });
    for (const name of NAMES) {
      const set = Object.keys(functions[name]!.props.Environment.Variables).filter((k) => /RETENTION|QUOTA/.test(k));
      expect(set, name).toEqual([]);
    }
  });

  it('give every function the retention, quotas and request throttles an operator sets in context', () => {
    const custom = serviceFunctions(
      synthesize({
        'media:retentionDays': 'attendance=keep, general=1095,training=30',
        'media:auditRetentionDays': '3650',
        'media:schoolQuotaGiB': '200',
        'media:personQuotaGiB': '0.5',
        'media:schoolRequestsPerSecond': '20',
        'media:schoolRequestBurst': '60',
        'media:unauthenticatedRequestsPerSecond': '5',
        'media:unauthenticatedRequestBurst': '10',
      }).template,
    );
    for (const name of CONFIGURED_NAMES) {
      const config = loadConfig(resolvedEnvironment(custom[name]!.props.Environment.Variables));
      expect(config.retention, name).toEqual({ mediaDays: { general: 1095, training: 30 }, auditDays: 3650 });
      expect({ school: config.limits.tenantQuotaBytes, person: config.limits.personQuotaBytes }, name).toEqual({
        school: 200 * 1024 ** 3,
        person: 512 * 1024 ** 2,
      });
      expect(config.throttle, name).toEqual({ school: { perSecond: 20, burst: 60 }, unauthenticated: { perSecond: 5, burst: 10 } });
    }
  });

  it('refuse a retention or a quota that is not one, naming the setting', () => {
    expect(() => synthesize({ 'media:retentionDays': 'attendance=0' })).toThrow(/media:retentionDays\.attendance: Too small/);
    expect(() => synthesize({ 'media:retentionDays': 'attendance=soon' })).toThrow(/media:retentionDays\.attendance: a number of days/);
    expect(() => synthesize({ 'media:retentionDays': 'classroom=30' })).toThrow(/media:retentionDays/);
    expect(() => synthesize({ 'media:auditRetentionDays': '7' })).toThrow(/media:auditRetentionDays/);
    expect(() => synthesize({ 'media:schoolQuotaGiB': '-1' })).toThrow(/media:schoolQuotaGiB/);
    expect(() => synthesize({ 'media:schoolRequestsPerSecond': '0' })).toThrow(/media:schoolRequestsPerSecond/);
    expect(() => synthesize({ 'media:schoolRequestsPerSecond': '500' })).toThrow(
      /media:schoolRequestBurst: a request burst must be at least its rate/,
    );
  });

  it('tell the functions that publish events where the outbound topic is, and no other', () => {
    const publishers = NAMES.filter((n) => functions[n]!.props.Environment.Variables.MEDIA_EVENTS_TOPIC_ARN);
    expect(publishers.sort()).toEqual(['media-api', 'process-upload', 'process-video', 'sweeper']);
    for (const name of publishers) {
      expect(functions[name]!.props.Environment.Variables.MEDIA_EVENTS_TOPIC_ARN).toEqual({ Ref: idOf(stack.queues.eventsTopic) });
    }
  });

  it('cap the processor with reserved concurrency, and give it the memory (cores) sharp uses', () => {
    const processor = functions['process-upload']!.props;
    expect(processor.ReservedConcurrentExecutions).toBe(10);
    expect(processor.MemorySize).toBe(2048);
  });

  it('give the transform function what a 2 GiB video needs: 15 minutes, 6 GiB of /tmp, and the pinned ffmpeg tools beside the bundle', () => {
    const props = functions['transform-video']!.props;
    expect(props.Timeout).toBe(900);
    expect(props.EphemeralStorage).toEqual({ Size: 6144 });
    expect(props.Environment.Variables.MEDIA_VIDEO_TOOLS_ARCHIVE).toBe('/var/task/video-tools.tar.gz');
    expect(props.Environment.Variables.MEDIA_FFMPEG_PATH, 'named paths would win over the archive').toBeUndefined();
    for (const name of NAMES.filter((n) => n !== 'transform-video')) {
      expect(functions[name]!.props.Environment.Variables.MEDIA_VIDEO_TOOLS_ARCHIVE, `${name} never runs ffmpeg`).toBeUndefined();
      expect(functions[name]!.props.Environment.Variables.MEDIA_FFMPEG_PATH, `${name} never runs ffmpeg`).toBeUndefined();
    }
  });

  it('give the transform function no configuration of the service: no bucket, no database, no token settings', () => {
    const variables = Object.keys(functions['transform-video']!.props.Environment.Variables);
    expect(variables.filter((name) => !name.startsWith('POWERTOOLS_')).sort()).toEqual(['MEDIA_VIDEO_TOOLS_ARCHIVE']);
  });

  it("name the transform function, and only it, in the video function's configuration, which waits for it as long as it may run", () => {
    const props = functions['process-video']!.props;
    expect(props.Environment.Variables.MEDIA_VIDEO_TRANSFORM_FUNCTION).toEqual({ Ref: functions['transform-video']!.id });
    expect(props.Timeout).toBeGreaterThanOrEqual(functions['transform-video']!.props.Timeout);
    expect(props.EphemeralStorage, 'no video is written to its /tmp').toBeUndefined();
    const config = loadConfig(resolvedEnvironment(props.Environment.Variables));
    expect(config.video.transform?.functionName).toBeTruthy();
  });

  it('send videos to their own queue and function, one video per invocation', () => {
    const videoQueue = { Ref: idOf(stack.queues.videos) };
    for (const name of ['process-upload', 'sweeper']) {
      expect(functions[name]!.props.Environment.Variables.MEDIA_VIDEO_QUEUE_URL, `${name} forwards videos`).toEqual(videoQueue);
    }
    expect(
      functions['process-video']!.props.Environment.Variables.MEDIA_VIDEO_QUEUE_URL,
      'the video function processes them',
    ).toBeUndefined();
    const mappings = Object.values(resourcesOf(template, 'AWS::Lambda::EventSourceMapping')).map((m) => m.Properties);
    const video = mappings.find((m) => JSON.stringify(m.FunctionName).includes(functions['process-video']!.id));
    expect(video).toMatchObject({ BatchSize: 1, EventSourceArn: { 'Fn::GetAtt': [idOf(stack.queues.videos), 'Arn'] } });
  });

  it("let request-upload wait for S3 to assemble a large multipart upload, up to the HTTP API's limit", () => {
    expect(functions['request-upload']!.props.Timeout).toBe(29);
  });

  it('hold processing leases longer than a processor run may take', () => {
    const processor = functions['process-upload']!.props;
    expect(Number(processor.Environment.Variables.MEDIA_PROCESSING_LEASE_SECONDS)).toBeGreaterThan(processor.Timeout);
  });

  it('put new code live only after the migrations ran', () => {
    const all = resourcesOf(template, 'AWS::Lambda::Function');
    const schema = idOf(stack.migrations.resource);
    for (const name of CONFIGURED_NAMES) {
      expect(all[functions[name]!.id].DependsOn, name).toContain(schema);
    }
  });
});

describe('the sweeper', () => {
  it('runs every five minutes on an EventBridge schedule', () => {
    const rules = Object.values(resourcesOf(template, 'AWS::Events::Rule')).filter((r) =>
      r.Properties.ScheduleExpression.startsWith('rate'),
    );
    expect(rules).toHaveLength(1);
    expect(rules[0].Properties.ScheduleExpression).toBe('rate(5 minutes)');
    expect(rules[0].Properties.State).toBe('ENABLED');
    expect(rules[0].Properties.Targets).toEqual([
      expect.objectContaining({ Arn: { 'Fn::GetAtt': [functions.sweeper!.id, 'Arn'] }, RetryPolicy: { MaximumRetryAttempts: 2 } }),
    ]);
  });

  it('runs the retention run once a day, as the same function with { task: "retention" }', () => {
    const rules = Object.values(resourcesOf(template, 'AWS::Events::Rule'));
    expect(rules).toHaveLength(2);
    const daily = rules.filter((r) => r.Properties.ScheduleExpression.startsWith('cron'));
    expect(daily.map((r) => r.Properties.ScheduleExpression)).toEqual(['cron(30 2 * * ? *)']);
    expect(daily[0].Properties.Targets).toEqual([
      expect.objectContaining({ Arn: { 'Fn::GetAtt': [functions.sweeper!.id, 'Arn'] }, Input: JSON.stringify({ task: 'retention' }) }),
    ]);
  });
});

describe('the processor bundle', () => {
  const lock = JSON.parse(readFileSync(join(REPO_ROOT, 'package-lock.json'), 'utf8'));
  const sharp = lock.packages['node_modules/sharp'].version as string;
  const pipeline = `"dependencies":{"sharp":"${sharp}","heic-decode":"${lock.packages['node_modules/heic-decode'].version}","libheif-js":"${lock.packages['node_modules/libheif-js'].version}"}`;

  it('installs the locked sharp for Linux on arm64 with glibc, and the locked WASM HEIC decoder, next to the bundle, no Docker', () => {
    const commands = sharpForLambda('arm64').afterBundling('/in', '/out').join(' && ');
    expect(commands).toContain('cd "/out"');
    expect(commands).toContain(pipeline);
    expect(commands).toContain('--os=linux --cpu=arm64 --libc=glibc');
  });

  it("writes the archive of the locked Debian ffmpeg and ffprobe for the function's CPU beside the bundle, and no npm build of them", () => {
    const commands = sharpForLambda('arm64', { videoTools: true }).afterBundling('/in', '/out').join(' && ');
    expect(commands).toContain(pipeline);
    expect(commands).not.toContain('ffmpeg-installer');
    expect(commands).toMatch(
      /--cpu=arm64 --libc=glibc && "[^"]+\/node_modules\/\.bin\/tsx" "[^"]+\/infra\/bin\/video-tools\.ts" arm64 "\/out\/video-tools\.tar\.gz"$/,
    );
    expect(sharpForLambda('arm64').afterBundling('/in', '/out').join(' && ')).not.toContain('video-tools');
    const toolsAlone = sharpForLambda('arm64', { videoTools: true, sharp: false }).afterBundling('/in', '/out').join(' && ');
    expect(toolsAlone, 'the transform function ships the tools').toContain('video-tools.ts');
    expect(toolsAlone, 'and no sharp').not.toContain('npm install');
  });

  it('installs the x64 build when the functions run on x86_64 (LocalStack on an Intel machine)', () => {
    expect(sharpForLambda('x86_64').afterBundling('/in', '/out').join(' && ')).toContain('--cpu=x64');
  });
});
