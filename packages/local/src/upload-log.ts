import type { APIGatewayProxyStructuredResultV2, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { MediaEventSchema, type MediaEvent } from '@media/core';
import type { BatchHandler } from './event-pump';
import type { ApiLambda } from './http-server';

/** `npm start`'s log levels (MEDIA_LOG_LEVEL): `info` shows each upload's state changes. */
export const LOG_LEVELS = ['debug', 'info', 'warn', 'error'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

const at = () => new Date().toISOString().slice(11, 23);

/** One line per state change of an upload, as the local stack prints them at `info`. */
export function uploadStateLine(event: MediaEvent): string {
  const state = event.type.replace('media.', '');
  const details =
    event.type === 'media.ready'
      ? `${event.contentType} ${event.width}×${event.height}, ${event.variants.length} variants`
      : event.type === 'media.rejected'
        ? `${event.rejection.code}: ${event.rejection.detail}`
        : '';
  return `${at()} upload ${event.mediaId} ${state} (${event.tenant}, ${event.purpose})${details ? ` ${details}` : ''}`;
}

/** request-upload as it is, and a `pending` line for each upload it answered with 201. */
export function loggingPending(requestUpload: ApiLambda, log: (line: string) => void): ApiLambda {
  return async (event, context) => {
    const answer: APIGatewayProxyStructuredResultV2 = await requestUpload(event, context);
    if (answer.statusCode === 201 && typeof answer.body === 'string') {
      try {
        const body = JSON.parse(answer.body) as { mediaId?: string; items?: { mediaId: string }[]; multipart?: unknown };
        for (const ticket of body.items ?? [body]) {
          if (ticket.mediaId) log(`${at()} upload ${ticket.mediaId} pending (${body.multipart ? 'in parts' : 'one POST'} to storage)`);
        }
      } catch {
        // Not JSON: nothing to say about it.
      }
    }
    return answer;
  };
}

/** The events queue the stack subscribes for its own log: each event becomes one line. */
export function eventLogger(log: (line: string) => void): BatchHandler {
  return async (batch: SQSEvent): Promise<SQSBatchResponse> => {
    for (const record of batch.Records) {
      try {
        // The full audience also carries person events; only a media event makes an upload line.
        const event = MediaEventSchema.safeParse(JSON.parse(record.body));
        if (event.success) log(uploadStateLine(event.data));
      } catch {
        // Not an event of ours.
      }
    }
    return { batchItemFailures: [] };
  };
}
