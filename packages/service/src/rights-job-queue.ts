import type { SqsSender } from './sqs-sender';

/**
 * How a new erasure or export reaches its worker at once (docs/privacy.md § Jobs): one message
 * per job on the rights-jobs queue, which invokes the sweeper function with it. Without a queue
 * (some tests), the sweeper's next run resumes the job as it resumes an interrupted one.
 */
export interface RightsJobQueue {
  announce(jobId: string): Promise<void>;
}

/** The body of a rights-jobs message. */
export interface RightsJobMessage {
  jobId: string;
}

export class SqsRightsJobQueue implements RightsJobQueue {
  constructor(private readonly queue: SqsSender) {}

  async announce(jobId: string): Promise<void> {
    const message: RightsJobMessage = { jobId };
    await this.queue.send(message);
  }
}

/** No queue configured: jobs wait for the sweeper. */
export const sweeperStartsJobs: RightsJobQueue = { announce: async () => {} };

/** The job id of a rights-jobs message, or undefined for a body that is not one. */
export function jobIdOf(body: string): string | undefined {
  try {
    const parsed: unknown = JSON.parse(body);
    if (typeof parsed === 'object' && parsed !== null && 'jobId' in parsed && typeof parsed.jobId === 'string') return parsed.jobId;
  } catch {
    // Not JSON: not ours.
  }
  return undefined;
}
