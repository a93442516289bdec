import { loadConfig } from '@media/core';
import { createDependencies, type Dependencies } from '@media/service';

let pending: Promise<Dependencies> | undefined;

/**
 * The dependency bag of a Lambda, built once per container from its environment. A failure is not
 * cached: the next invocation tries again (the database may have been waking up).
 */
export function dependenciesFromEnvironment(): Promise<Dependencies> {
  pending ??= createDependencies(loadConfig(process.env)).catch((error) => {
    pending = undefined;
    throw error;
  });
  return pending;
}

export type DependencySource = Dependencies | (() => Promise<Dependencies>);

export const resolveDependencies = (source: DependencySource): Promise<Dependencies> =>
  typeof source === 'function' ? source() : Promise.resolve(source);
