import { execSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export type LambdaArchitecture = 'arm64' | 'x86_64';

/** npm's name for a Lambda architecture's CPU. */
export const npmCpu = (architecture: LambdaArchitecture): 'arm64' | 'x64' => (architecture === 'arm64' ? 'arm64' : 'x64');

/** The architecture of this machine, in Lambda's words. */
export const hostArchitecture = (): LambdaArchitecture => (process.arch === 'arm64' ? 'arm64' : 'x86_64');

/**
 * Native packages (sharp and its prebuilt libvips) cannot be bundled: they are installed next to
 * the bundle, into its own node_modules, for the platform the function runs on. npm picks the
 * matching optional packages by `--os/--cpu/--libc`, so no Docker is needed whatever the build
 * machine is. The same command builds the deploy bundle (for Lambda's CPU) and the copy a test
 * starts on this machine (for the host's CPU): only the platform differs.
 *
 * The folder's package.json names the packages and exact versions; a package.json of its own
 * keeps npm from walking up into the project's.
 */
export function nativeInstallCommand(architecture: LambdaArchitecture): string {
  return `npm install --no-audit --no-fund --no-package-lock --prefer-offline --omit=dev --os=linux --cpu=${npmCpu(architecture)} --libc=glibc`;
}

/** The package.json of a bundle folder that ships native packages at exact versions. */
export const nativePackageJson = (packages: Record<string, string>, optional?: Record<string, string>): string =>
  JSON.stringify({ private: true, type: 'module', dependencies: packages, ...(optional ? { optionalDependencies: optional } : {}) });

/** Installs a bundle folder's native packages for an architecture (its package.json says which). */
export function installNativeModules(dir: string, architecture: LambdaArchitecture): void {
  if (!existsSync(join(dir, 'package.json'))) throw new Error(`${dir} has no package.json naming its native packages`);
  execSync(nativeInstallCommand(architecture), { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
}

/** Writes the package.json, then installs: for tools that build a folder outside CDK. */
export function writeNativeModules(dir: string, packages: Record<string, string>, architecture: LambdaArchitecture): void {
  writeFileSync(join(dir, 'package.json'), nativePackageJson(packages));
  installNativeModules(dir, architecture);
}
