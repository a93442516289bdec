import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { API_ROUTES } from '@media/core';
import { endpointList } from '@media/local';

const routes = API_ROUTES.map((route) => `${route.method} ${route.path}`);

describe('where people look for the routes', () => {
  it("README's HTTP API table has a row for every route of the route table", async () => {
    const readme = await readFile(new URL('../../README.md', import.meta.url), 'utf8');
    const table = readme.slice(readme.indexOf('## HTTP API (v1)'), readme.indexOf('\n## ', readme.indexOf('## HTTP API (v1)') + 1));
    const rows = table.split('\n').filter((line) => line.startsWith('| `'));
    const missing = routes.filter((route) => !rows.some((row) => row.split('|')[1]!.includes(`\`${route}\``)));
    expect(missing).toEqual([]);
  });

  it("`npm start`'s list names every /v1 route, the rights routes among them", () => {
    const list = endpointList();
    const named = list.split('\n').flatMap((line) => [...line.matchAll(/(GET|POST|PUT|DELETE)\s+(\S+)/g)].map((m) => `${m[1]} ${m[2]}`));
    expect(named.sort()).toEqual(routes.filter((route) => route.includes(' /v1/')).sort());
    expect(named).toEqual(
      expect.arrayContaining([
        'PUT /v1/subjects/{subjectId}/consent',
        'GET /v1/audit',
        'GET /v1/retention/preview',
        'POST /v1/subjects/{subjectId}/erasure',
        'GET /v1/exports/{exportId}',
      ]),
    );
  });
});
