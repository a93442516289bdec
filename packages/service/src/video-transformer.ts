import type { LambdaClient, LambdaClientConfig } from '@aws-sdk/client-lambda';

/**
 * What the transform is handed: `VideoTransformRequest` of @media/imaging, restated here because
 * the API functions build the dependencies that name this port and must never load the image
 * pipeline (test/architecture/package-boundaries.test.ts); the compiler holds the two together
 * where the video processor hands one to the other.
 */
export interface TransformRequest {
  source: string;
  declaredType: string;
  declaredSize: number;
  clean: string;
  poster: string;
}

/**
 * Where a video is probed, remuxed and its poster taken: given presigned URLs only, it answers
 * plain JSON that the caller checks (`VideoTransformAnswer`) before believing a word of it. In AWS
 * that is the transform-video function, which has no database, no network of ours and no rights;
 * locally and in the tests, the same code in this process.
 */
export interface VideoTransformer {
  transform(request: TransformRequest): Promise<unknown>;
}

/**
 * Invokes the transform function and waits for its answer. Only the video function builds this
 * (functions/shared/video-transform.ts); the SDK's module loads on its first video, not at cold start.
 */
export class LambdaVideoTransformer implements VideoTransformer {
  private client: LambdaClient | undefined;

  constructor(
    private readonly clientConfig: LambdaClientConfig,
    private readonly functionName: string,
  ) {}

  async transform(request: TransformRequest): Promise<unknown> {
    const sdk = await import('@aws-sdk/client-lambda');
    this.client ??= new sdk.LambdaClient(this.clientConfig);
    const answer = await this.client.send(
      new sdk.InvokeCommand({ FunctionName: this.functionName, Payload: new TextEncoder().encode(JSON.stringify(request)) }),
    );
    const text = answer.Payload ? new TextDecoder().decode(answer.Payload) : '';
    // A function's failure (a URL refused, a tool that cannot start, its time limit) is ours: thrown, so the video comes back.
    if (answer.FunctionError) throw new Error(`the video transform failed (${answer.FunctionError}): ${text.slice(0, 500)}`);
    try {
      return JSON.parse(text) as unknown;
    } catch {
      throw new Error('the video transform answered no JSON');
    }
  }
}
