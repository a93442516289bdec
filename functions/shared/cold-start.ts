import { loadConfig, type Config } from '@media/core';
import { assembleDependencies, type Dependencies, type DependencyOverrides } from '@media/service';

/**
 * What one function adds to the shared dependencies at cold start (its CDN signer, its edge
 * invalidation, the SNS and SQS senders where it sends): each client is then bundled only where used.
 */
export type ColdStartExtras = (config: Config) => Promise<Omit<DependencyOverrides, 'db' | 'storage' | 'credentials'>>;

/**
 * The dependency bag of a Lambda, built once per container from its environment, with what that
 * function alone needs (`extras`), so a function bundles no client it never uses. A failure is not
 * cached: the next invocation tries again (the database may have been waking up).
 */
export function dependenciesFromEnvironment(extras?: ColdStartExtras): () => Promise<Dependencies> {
  let pending: Promise<Dependencies> | undefined;
  return () => {
    pending ??= (async () => {
      const config = loadConfig(process.env);
      return assembleDependencies(config, extras ? await extras(config) : {});
    })().catch((error) => {
      pending = undefined;
      throw error;
    });
    return pending;
  };
}

export type DependencySource = Dependencies | (() => Promise<Dependencies>);

export const resolveDependencies = (source: DependencySource): Promise<Dependencies> =>
  typeof source === 'function' ? source() : Promise.resolve(source);

/** Several functions' worth of extras as one (edge invalidation and messaging, say). */
export const combinedExtras =
  (...parts: ColdStartExtras[]): ColdStartExtras =>
  async (config) =>
    Object.assign({}, ...(await Promise.all(parts.map((part) => part(config)))));
