import { API_ROUTES } from '@media/core';

/**
 * The API's routes as `npm start` prints them, two to a line, from the route table itself, so a
 * route added there is listed without anyone remembering to.
 */
export function endpointList(indent = '  '): string {
  const entries = API_ROUTES.filter((route) => route.path.startsWith('/v1/')).map((route) => `${route.method.padEnd(6)} ${route.path}`);
  const width = Math.max(...entries.map((entry) => entry.length)) + 3;
  const lines: string[] = [];
  for (let at = 0; at < entries.length; at += 2) {
    lines.push(`${indent}${entries[at]!.padEnd(width)}${entries[at + 1] ?? ''}`.trimEnd());
  }
  return lines.join('\n');
}
