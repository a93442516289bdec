import { cpSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { SynthesizedFunction } from './cloud-assembly';
import { hostArchitecture, installNativeModules, type LambdaArchitecture } from './native-modules';

export interface IsolatedCopyOptions {
  /** Where the copy goes; it is replaced if it exists. */
  dir: string;
  /**
   * The CPU its native packages are for: `as-built` keeps what the synth installed (Lambda's);
   * `host` reinstalls them for this machine, with the same command the synth used.
   */
  platform?: 'as-built' | 'host';
}

/** Whether a function's bundle ships native packages (a package.json beside the bundle names them). */
export const shipsNativeModules = (fn: SynthesizedFunction): boolean => {
  const manifest = join(fn.assetDir, 'package.json');
  if (!existsSync(manifest)) return false;
  const { dependencies = {} } = JSON.parse(readFileSync(manifest, 'utf8')) as { dependencies?: Record<string, string> };
  return Object.keys(dependencies).length > 0;
};

/**
 * A function's asset copied alone into an empty folder, as Lambda unpacks it into /var/task: no
 * project node_modules above it to hide a missing dependency. Native packages are reinstalled for
 * the host when asked and the bundle was built for another CPU.
 */
export function isolatedCopy(fn: SynthesizedFunction, options: IsolatedCopyOptions): { dir: string; architecture: LambdaArchitecture } {
  const target = options.platform === 'host' ? hostArchitecture() : fn.architecture;
  const building = `${options.dir}.building`;
  rmSync(building, { recursive: true, force: true });
  mkdirSync(building, { recursive: true });
  const reinstall = target !== fn.architecture && shipsNativeModules(fn);
  cpSync(fn.assetDir, building, { recursive: true, filter: (source) => !(reinstall && source === join(fn.assetDir, 'node_modules')) });
  if (reinstall) installNativeModules(building, target);
  // Whole or not at all: a half-built copy never looks ready to the next caller.
  rmSync(options.dir, { recursive: true, force: true });
  renameSync(building, options.dir);
  return { dir: options.dir, architecture: target };
}
