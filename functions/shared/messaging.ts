import type { Config } from '@media/core';
import { messagingOf, type Messaging } from '@media/service';

/**
 * For the functions that send (media-api, the processors, the sweeper, detect-faces): the events
 * publisher and the queue senders their configuration names. request-upload and get-download send
 * nothing, so they leave this out and bundle neither the SNS nor the SQS client.
 */
export const messaging = async (config: Config): Promise<Messaging> => messagingOf(config);
