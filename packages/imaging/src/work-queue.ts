export interface Job<T> {
  /** Estimated time, in any unit; only the order matters. */
  cost: number;
  run: () => Promise<T>;
}

/**
 * Runs jobs with at most `lanes` at once, longest first, results in the jobs' order. Encoders are
 * single-threaded: starting more than there are cores only shares the cores, and the longest
 * encode (the one everything waits for) then finishes later than if it had a core to itself.
 */
export async function runLongestFirst<T>(jobs: readonly Job<T>[], lanes: number): Promise<T[]> {
  const results = new Array<T>(jobs.length);
  const queue = jobs.map((job, index) => ({ job, index })).sort((a, b) => b.job.cost - a.job.cost);
  const lane = async () => {
    for (let next = queue.shift(); next; next = queue.shift()) results[next.index] = await next.job.run();
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(lanes, jobs.length)) }, lane));
  return results;
}
