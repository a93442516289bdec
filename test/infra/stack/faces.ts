import { describe, expect, it } from 'vitest';
import { FACE_MODEL_FILES, FACE_WASM_FILES, sharpForLambda } from '../../../infra/lib/media-function';
import { MODEL_FILES } from '@media/faces';
import { resourcesOf, serviceFunctions, synthesize } from '../synth';

const { template, stack, idOf } = synthesize();
const functions = serviceFunctions(template);
const detector = () => functions['detect-faces']!.props;
const queue = idOf(stack.faces.queue);

describe('the face stage', () => {
  it('feeds detect-faces from the face queue in small batches, reporting a failed record alone, at most two at once', () => {
    const mappings = Object.values(resourcesOf(template, 'AWS::Lambda::EventSourceMapping'))
      .map((m) => m.Properties)
      .filter((m) => JSON.stringify(m.EventSourceArn) === JSON.stringify({ 'Fn::GetAtt': [queue, 'Arn'] }));
    expect(mappings).toHaveLength(1);
    expect(mappings[0]).toMatchObject({
      FunctionName: { Ref: functions['detect-faces']!.id },
      BatchSize: 3,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      ScalingConfig: { MaximumConcurrency: detector().ReservedConcurrentExecutions },
    });
  });

  it('rests a face job in its own dead-letter queue after five receives', () => {
    const props = resourcesOf(template, 'AWS::SQS::Queue')[queue].Properties;
    expect(props.RedrivePolicy).toEqual({
      deadLetterTargetArn: { 'Fn::GetAtt': [idOf(stack.faces.deadLetters), 'Arn'] },
      maxReceiveCount: 5,
    });
  });

  it('tells exactly the functions that hand items to the stage where its queue is', () => {
    const told = Object.entries(functions)
      .filter(([, { props }]) => props.Environment.Variables.MEDIA_FACE_QUEUE_URL)
      .map(([name]) => name)
      .sort();
    expect(told).toEqual(['media-api', 'process-upload', 'process-video', 'sweeper']);
    for (const name of told) expect(functions[name]!.props.Environment.Variables.MEDIA_FACE_QUEUE_URL, name).toEqual({ Ref: queue });
  });

  it("runs on arm64 with 2048 MB, and finds the bundle's own models and .wasm files", () => {
    expect(detector()).toMatchObject({ Architectures: ['arm64'], MemorySize: 2048, Timeout: 120, ReservedConcurrentExecutions: 2 });
    expect(detector().Environment.Variables).toMatchObject({
      MEDIA_FACE_MODEL_DIR: '/var/task/face-models',
      MEDIA_FACE_WASM_DIR: '/var/task/tfjs-wasm',
    });
  });

  it('ships only the two networks the stage loads, and TensorFlow.js’s .wasm builds, next to the bundle', () => {
    expect([...FACE_MODEL_FILES].sort()).toEqual([...MODEL_FILES].sort());
    const commands = sharpForLambda('arm64', { faceModels: true }).afterBundling('/in', '/out').join(' && ');
    for (const file of [...FACE_MODEL_FILES, ...FACE_WASM_FILES]) expect(commands).toContain(`/${file}"`);
    expect(commands).not.toContain('tiny');
    expect(commands).toMatch(/ "\/out\/face-models\/" && cp .* "\/out\/tfjs-wasm\/"$/);
    expect(sharpForLambda('arm64').afterBundling('/in', '/out').join(' && ')).not.toContain('face-models');
  });
});
