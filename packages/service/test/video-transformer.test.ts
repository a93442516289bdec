import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import { LambdaVideoTransformer } from '../src/video-transformer';

const lambda = mockClient(LambdaClient);
const request = {
  source: 'https://bucket.example/incoming/t/id?X-Amz-Signature=s',
  declaredType: 'video/mp4',
  declaredSize: 1000,
  clean: 'https://bucket.example/scratch/t/id/o/clean?X-Amz-Signature=s',
  poster: 'https://bucket.example/scratch/t/id/o/poster.png?X-Amz-Signature=s',
};
const transformer = () =>
  new LambdaVideoTransformer({ region: 'eu-west-1', credentials: { accessKeyId: 'a', secretAccessKey: 's' } }, 'transform-video');
const payload = (value: unknown) => new TextEncoder().encode(JSON.stringify(value)) as never;

afterEach(() => lambda.reset());

describe('the transform function, invoked', () => {
  it('is handed the request alone, by name, and its answer comes back as it was written', async () => {
    lambda.on(InvokeCommand).resolves({ StatusCode: 200, Payload: payload({ outcome: 'rejected', code: 'CORRUPT_VIDEO', message: 'x' }) });
    await expect(transformer().transform(request)).resolves.toEqual({ outcome: 'rejected', code: 'CORRUPT_VIDEO', message: 'x' });
    const [call] = lambda.commandCalls(InvokeCommand);
    expect(call!.args[0].input.FunctionName).toBe('transform-video');
    expect(JSON.parse(new TextDecoder().decode(call!.args[0].input.Payload as Uint8Array))).toEqual(request);
  });

  it('throws when the function failed (its time limit, a URL refused), so the video comes back from its queue', async () => {
    lambda.on(InvokeCommand).resolves({
      StatusCode: 200,
      FunctionError: 'Unhandled',
      Payload: payload({ errorType: 'Error', errorMessage: 'Task timed out after 900.00 seconds' }),
    });
    await expect(transformer().transform(request)).rejects.toThrow(/video transform failed \(Unhandled\).*timed out/);
  });

  it('throws when the answer is not JSON', async () => {
    lambda.on(InvokeCommand).resolves({ StatusCode: 200, Payload: new TextEncoder().encode('<html>') as never });
    await expect(transformer().transform(request)).rejects.toThrow(/answered no JSON/);
  });

  it('throws when Lambda itself refuses (throttled, not found), never answering for the function', async () => {
    lambda.on(InvokeCommand).rejects(Object.assign(new Error('Rate exceeded'), { name: 'TooManyRequestsException' }));
    await expect(transformer().transform(request)).rejects.toThrow(/Rate exceeded/);
  });
});
