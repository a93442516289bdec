import { z } from 'zod';
import {
  BatchUploadRequest,
  DownloadAnswer,
  ERRORS,
  LegalHoldBody,
  ListAnswer,
  MediaRecord,
  UploadRequest,
  UploadTicket,
  UsageAnswer,
} from '@media/core';
import { API_ROUTES } from '../../../functions/routes';

const schema = (s: z.ZodType) => z.toJSONSchema(s, { io: 'input', unrepresentable: 'any' });

const BODIES: Record<string, z.ZodType> = {
  'POST /v1/uploads': UploadRequest,
  'POST /v1/uploads/batch': BatchUploadRequest,
  'PUT /v1/media/{id}/legal-hold': LegalHoldBody,
};
const ANSWERS: Record<string, [number, z.ZodType | null]> = {
  'POST /v1/uploads': [201, UploadTicket],
  'POST /v1/uploads/batch': [201, z.object({ items: z.array(UploadTicket) })],
  'GET /v1/media': [200, ListAnswer],
  'GET /v1/media/{id}': [200, MediaRecord],
  'DELETE /v1/media/{id}': [204, null],
  'PUT /v1/media/{id}/legal-hold': [200, MediaRecord],
  'GET /v1/media/{id}/download': [200, DownloadAnswer],
  'GET /v1/usage': [200, UsageAnswer],
};

/** The OpenAPI 3.1 document, derived from the zod schemas of the contract and the route table. */
export function openApiDocument() {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const route of API_ROUTES) {
    const key = `${route.method} ${route.path}`;
    const [status, answer] = ANSWERS[key] ?? [200, null];
    const errors = Object.fromEntries(
      [...new Set(Object.values(ERRORS).map((e) => e.status))].map((s) => [
        String(s),
        { description: 'problem', content: { 'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' } } } },
      ]),
    );
    paths[route.path] ??= {};
    paths[route.path]![route.method.toLowerCase()] = {
      operationId: key,
      security: [{ bearer: [] }],
      parameters: route.path.includes('{id}') ? [{ name: 'id', in: 'path', required: true, schema: { type: 'string', format: 'uuid' } }] : [],
      ...(BODIES[key] ? { requestBody: { required: true, content: { 'application/json': { schema: schema(BODIES[key]) } } } } : {}),
      responses: {
        [String(status)]: answer ? { description: 'ok', content: { 'application/json': { schema: schema(answer) } } } : { description: 'no content' },
        ...errors,
      },
    };
  }
  return {
    openapi: '3.1.0',
    info: { title: 'Media service', version: '1.0.0' },
    components: {
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } },
      schemas: {
        Problem: {
          type: 'object',
          required: ['type', 'title', 'status', 'detail', 'code'],
          properties: {
            type: { type: 'string' },
            title: { type: 'string' },
            status: { type: 'integer' },
            detail: { type: 'string' },
            code: { type: 'string', enum: Object.keys(ERRORS) },
          },
        },
      },
    },
    paths,
  };
}
