import { readFile } from 'node:fs/promises';
import { createConfig, lint } from '@redocly/openapi-core';
import { Validator } from '@seriousme/openapi-schema-validator';
import { describe, expect, it } from 'vitest';
import { openApiDocument, openApiJson } from '@media/core/openapi';
import { API_ROUTES, REJECTION_CODES } from '@media/core';

const committedFile = new URL('../../docs/openapi.json', import.meta.url);

/**
 * docs/architecture.md § Contract, written out by hand: each route and the problem statuses a client must be ready
 * for (besides `default`). Not derived from the document under test.
 */
const CONTRACT: [method: string, path: string, success: string, errors: string[]][] = [
  ['post', '/v1/uploads', '201', ['400', '401', '403', '413', '415', '429']],
  ['post', '/v1/uploads/batch', '201', ['400', '401', '403', '413', '415', '429']],
  ['get', '/v1/media/{id}', '200', ['401', '404']],
  ['get', '/v1/media', '200', ['400', '401']],
  ['get', '/v1/media/{id}/download', '200', ['400', '401', '403', '404', '409']],
  ['delete', '/v1/media/{id}', '204', ['401', '403', '404', '423']],
  ['put', '/v1/media/{id}/legal-hold', '200', ['400', '401', '403', '404']],
  ['get', '/v1/usage', '200', ['400', '401', '403']],
  ['get', '/v1/settings', '200', ['401', '403']],
  ['put', '/v1/settings', '200', ['400', '401', '403']],
  ['get', '/health', '200', ['429']],
  ['get', '/openapi.json', '200', ['429']],
];

type Doc = { paths: Record<string, Record<string, any>>; components: { schemas: Record<string, any> } };
const doc = () => openApiDocument() as unknown as Doc;

describe('the OpenAPI document', () => {
  it('is what docs/openapi.json holds (run `npm run openapi` after changing the zod schemas)', async () => {
    const committed = await readFile(committedFile, 'utf8');
    expect(committed, 'docs/openapi.json disagrees with the zod schemas: run `npm run openapi`').toBe(openApiJson());
  });

  it('is a valid OpenAPI 3.1 document', async () => {
    const validator = new Validator();
    const result = await validator.validate(JSON.parse(openApiJson()));
    expect(result.errors ?? [], JSON.stringify(result.errors, null, 2)).toEqual([]);
    expect(result.valid).toBe(true);
    expect(validator.version).toBe('3.1');
  });

  it("passes Redocly's lint with the recommended ruleset: no error, no warning", async () => {
    const config = await createConfig({ extends: ['recommended'] });
    const problems = await lint({ ref: committedFile.pathname, config });
    const found = problems.map((p) => `${p.severity} ${p.ruleId}: ${p.message} (${p.location[0]?.pointer ?? ''})`);
    expect(found).toEqual([]);
  });

  it.each(CONTRACT)('documents %s %s with its success and problem+json error responses', (method, path, success, errors) => {
    const operation = doc().paths[path]?.[method];
    expect(operation, `${method.toUpperCase()} ${path} is missing`).toBeDefined();
    expect(Object.keys(operation.responses)).toContain(success);
    for (const status of errors) {
      const response = operation.responses[status];
      expect(response, `${method.toUpperCase()} ${path} lacks its ${status} response`).toBeDefined();
      expect(response.content['application/problem+json'].schema).toEqual({ $ref: '#/components/schemas/Problem' });
    }
    if (errors.length) expect(operation.responses.default.content['application/problem+json']).toBeDefined();
  });

  it('asks for a bearer token on every /v1 route and on nothing else', () => {
    const { security } = openApiDocument() as unknown as { security: unknown };
    expect(security).toEqual([{ bearer: [] }]);
    for (const [method, path] of CONTRACT) {
      const operation = doc().paths[path]![method];
      expect({ path, anonymous: operation.security?.length === 0 }).toEqual({ path, anonymous: !path.startsWith('/v1/') });
    }
  });

  it('documents exactly the routes the API serves', () => {
    const documented = Object.entries(doc().paths).flatMap(([path, item]) => Object.keys(item).map((m) => `${m.toUpperCase()} ${path}`));
    const served = API_ROUTES.map((r) => `${r.method} ${r.path}`);
    expect(documented.sort()).toEqual(served.sort());
  });

  it('says 429 comes with Retry-After and lists the problem codes of the contract', () => {
    const tooMany = doc().paths['/v1/uploads']!.post.responses['429'];
    expect(Object.keys(tooMany.headers)).toEqual(['retry-after']);
    const codes = doc().components.schemas.Problem.properties.code.enum;
    for (const code of [
      'UNSUPPORTED_MEDIA_TYPE',
      'PAYLOAD_TOO_LARGE',
      'VALIDATION_FAILED',
      'UNAUTHENTICATED',
      'FORBIDDEN',
      'NOT_FOUND',
      'NOT_READY',
      'LEGAL_HOLD',
      'TOO_MANY_PENDING_UPLOADS',
      'QUOTA_EXCEEDED',
    ]) {
      expect(codes).toContain(code);
    }
  });

  it('lists every rejection code of the error vocabulary as the enum of a record’s rejection', () => {
    const rejection = doc().components.schemas.MediaRecord.properties.rejection;
    expect(rejection.properties.code.enum).toEqual([...REJECTION_CODES]);
    expect(rejection.properties.code.enum).toContain('CORRUPT_IMAGE');
  });

  it('describes the list filters, including sha256', () => {
    const names = doc().paths['/v1/media']!.get.parameters.map((p: { name: string; in: string }) => `${p.in}:${p.name}`);
    expect(names.sort()).toEqual(
      ['purpose', 'subjectId', 'classroomId', 'status', 'createdAfter', 'createdBefore', 'sha256', 'duplicateOf', 'limit', 'cursor']
        .map((n) => `query:${n}`)
        .sort(),
    );
  });
});
