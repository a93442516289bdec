import { closeSync, fsyncSync, openSync } from 'node:fs';
import type { PGliteOptions } from '@electric-sql/pglite';

/**
 * PGlite on a folder, set up so that what it acknowledges is on disk (docs/architecture.md
 * § Durability). Out of the box, PGlite's Node filesystem writes through
 * to the OS but never asks it to flush: it starts PostgreSQL with `-F` (fsync off), its
 * filesystem layer has no fsync, and its `fdatasync` (PostgreSQL's default WAL sync method here)
 * does nothing. A commit then survives the process being killed (its WAL is written at commit),
 * but not the machine going down. Here fsync is implemented on the real file, turned on, and used
 * for the WAL.
 */
export async function durablePgliteOptions(dir: string, onSync?: () => void): Promise<Pick<PGliteOptions, 'fs' | 'startParams'>> {
  const { PGlite } = await import('@electric-sql/pglite');
  const { NodeFS } = await import('@electric-sql/pglite/nodefs');

  class SyncingNodeFS extends NodeFS {
    override async init(...args: Parameters<InstanceType<typeof NodeFS>['init']>) {
      const { emscriptenOpts } = await super.init(...args);
      const giveNodeFsAnFsync = (mod: { FS: { filesystems: Record<string, unknown> } }) => {
        const nodefs = mod.FS.filesystems.NODEFS;
        if (!isNodeBackedFs(nodefs)) throw new Error('PGlite: its Node filesystem is not the one this setup knows; cannot make it flush');
        nodefs.stream_ops.fsync = (stream: EmscriptenStream) => {
          onSync?.();
          if (stream.nfd !== undefined) fsyncSync(stream.nfd);
          else {
            // A directory (PostgreSQL flushes them after creating or renaming files in them).
            const fd = openSync(nodefs.realPath(stream.node), 'r');
            try {
              fsyncSync(fd);
            } finally {
              closeSync(fd);
            }
          }
          return 0;
        };
      };
      return { emscriptenOpts: { ...emscriptenOpts, preRun: [giveNodeFsAnFsync, ...(emscriptenOpts.preRun ?? [])] } };
    }
  }

  return {
    fs: new SyncingNodeFS(dir),
    startParams: [
      ...PGlite.defaultStartParams.filter((param) => param !== '-F'),
      ...['-c', 'fsync=on', '-c', 'synchronous_commit=on', '-c', 'wal_sync_method=fsync'],
    ],
  };
}

interface EmscriptenStream {
  /** The Node file descriptor, for files (directories have none). */
  nfd?: number;
  node: unknown;
}

interface NodeBackedFs {
  stream_ops: { fsync?: (stream: EmscriptenStream) => number };
  realPath(node: unknown): string;
}

function isNodeBackedFs(value: unknown): value is NodeBackedFs {
  return (
    typeof value === 'object' &&
    value !== null &&
    'stream_ops' in value &&
    typeof value.stream_ops === 'object' &&
    'realPath' in value &&
    typeof value.realPath === 'function'
  );
}
