import type { Context } from 'aws-lambda';
import { loadVideoTransformConfig } from '@media/core';
import { transformVideo, VideoTransformRequest, type VideoTransformAnswer } from '@media/imaging';
import { logger } from '../shared/observability';

/**
 * The transform function: a video probed, remuxed and its poster taken, with least power
 * (docs/large-media.md § Least power). It is handed presigned URLs by the video function, which
 * alone invokes it; it has no database, no network of ours, and a role that grants nothing on the
 * bucket: the URLs act with their signer's rights, on one object each, for minutes.
 */
const config = loadVideoTransformConfig(process.env);

export type TransformVideoHandler = (event: unknown, context?: Pick<Context, 'getRemainingTimeInMillis'>) => Promise<VideoTransformAnswer>;

export const handler: TransformVideoHandler = async (event, context) => {
  // Only the video function invokes this; an event out of contract is its bug, thrown back to it.
  const request = VideoTransformRequest.parse(event);
  const started = performance.now();
  const answer = await transformVideo(request, {
    tools: config.video,
    limits: { maxBytes: config.limits.videoMaxBytes, maxSeconds: config.limits.videoMaxSeconds },
    deadlineMs: Date.now() + (context?.getRemainingTimeInMillis() ?? config.video.toolSeconds * 1000),
  });
  logger.info(`video ${answer.outcome}`, {
    ...(answer.outcome === 'rejected' ? { code: answer.code } : { container: answer.probe.container }),
    ms: Math.round(performance.now() - started),
  });
  return answer;
};
