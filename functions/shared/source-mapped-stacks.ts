import { existsSync, readFileSync } from 'node:fs';
import { SourceMap } from 'node:module';
import { basename, dirname, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * Stack traces of a bundle name the TypeScript sources, as `--enable-source-maps` would, but a
 * source map is read when the first stack through its file is formatted instead of at every cold
 * start (parsing a map of 1.5 MB cost each function about 15 ms of init). A bundle is `index.mjs`
 * and the chunks esbuild splits off into `chunks/` (infra/lib/media-function.ts), each with its map
 * beside it: `bundleUrl` is the URL of the module that calls this, in either. Frames outside the
 * bundle's folder, and of files without a map beside them (the sources run by tsx), are left as V8
 * writes them.
 */
export function mapStacksOfBundle(bundleUrl: string): void {
  const modulePath = bundleUrl.startsWith('file:') ? fileURLToPath(bundleUrl) : bundleUrl;
  if (!existsSync(`${modulePath}.map`)) return;
  const here = dirname(modulePath);
  const root = `${basename(here) === 'chunks' ? dirname(here) : here}${sep}`;
  const maps = new Map<string, SourceMap | null>();
  const mapOf = (file: string) => {
    if (!maps.has(file)) {
      try {
        maps.set(file, new SourceMap(JSON.parse(readFileSync(`${file}.map`, 'utf8'))));
      } catch {
        maps.set(file, null);
      }
    }
    return maps.get(file);
  };
  Error.prepareStackTrace = (error: Error, frames: NodeJS.CallSite[]) => {
    const lines = frames.map((frame) => {
      const name = frame.getFileName();
      const file = name?.startsWith('file:') ? fileURLToPath(name) : name;
      const line = frame.getLineNumber();
      const column = frame.getColumnNumber();
      if (file?.startsWith(root) && line !== null && column !== null) {
        const entry = mapOf(file)?.findEntry(line - 1, column - 1);
        if (entry && 'originalSource' in entry) {
          const fn = frame.getFunctionName() ?? '<anonymous>';
          return `    at ${frame.isAsync() ? 'async ' : ''}${fn} (${entry.originalSource}:${entry.originalLine + 1}:${entry.originalColumn + 1})`;
        }
      }
      return `    at ${frame.toString()}`;
    });
    return [Error.prototype.toString.call(error), ...lines].join('\n');
  };
}
