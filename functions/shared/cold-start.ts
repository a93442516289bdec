import { loadConfig, type Config } from '@media/core';
import { createDependencies, type Dependencies, type DependencyOverrides } from '@media/service';

/** What one function adds to the shared dependencies at cold start (its CDN signer, its edge invalidation). */
export type ColdStartExtras = (config: Config) => Promise<Omit<DependencyOverrides, 'db' | 'storage' | 'events' | 'credentials'>>;

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
      return createDependencies(config, extras ? await extras(config) : {});
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
