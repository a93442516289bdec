import type { Config } from '@media/core';
import { LambdaVideoTransformer, type VideoTransformer } from '@media/service/processing';

/**
 * For the video function: the transform function it hands each video to, where one is configured
 * (MEDIA_VIDEO_TRANSFORM_FUNCTION). Built here rather than in the shared dependencies so that the
 * Lambda client is bundled into the processor alone.
 */
export const videoTransform = async (config: Config): Promise<{ videoTransformer?: VideoTransformer }> =>
  config.video.transform
    ? {
        videoTransformer: new LambdaVideoTransformer(
          { region: config.region, endpoint: config.video.transform.lambdaEndpoint },
          config.video.transform.functionName,
        ),
      }
    : {};
