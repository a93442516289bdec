import { existsSync, readFileSync } from 'node:fs';
import { SourceMap } from 'node:module';
import { fileURLToPath } from 'node:url';

/**
 * Stack traces of a bundle name the TypeScript sources, as `--enable-source-maps` would, but the
 * source map is read when the first stack is formatted instead of at every cold start (parsing a
 * map of 1.5 MB cost each function about 15 ms of init). Frames outside the bundle, and everything
 * when no map lies beside it (the sources run by tsx), are left as V8 writes them.
 */
export function mapStacksOfBundle(bundleUrl: string): void {
  const bundlePath = bundleUrl.startsWith('file:') ? fileURLToPath(bundleUrl) : bundleUrl;
  const mapPath = `${bundlePath}.map`;
  if (!existsSync(mapPath)) return;
  let map: SourceMap | null | undefined;
  const loadMap = () => {
    try {
      return new SourceMap(JSON.parse(readFileSync(mapPath, 'utf8')));
    } catch {
      return null;
    }
  };
  Error.prepareStackTrace = (error: Error, frames: NodeJS.CallSite[]) => {
    const lines = frames.map((frame) => {
      const file = frame.getFileName();
      const line = frame.getLineNumber();
      const column = frame.getColumnNumber();
      if ((file === bundleUrl || file === bundlePath) && line !== null && column !== null) {
        map ??= loadMap();
        const entry = map?.findEntry(line - 1, column - 1);
        if (entry && 'originalSource' in entry) {
          const name = frame.getFunctionName() ?? '<anonymous>';
          return `    at ${frame.isAsync() ? 'async ' : ''}${name} (${entry.originalSource}:${entry.originalLine + 1}:${entry.originalColumn + 1})`;
        }
      }
      return `    at ${frame.toString()}`;
    });
    return [Error.prototype.toString.call(error), ...lines].join('\n');
  };
}
