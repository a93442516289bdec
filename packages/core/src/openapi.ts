import * as z from 'zod/mini';
import { createDocument, type ZodOpenApiOperationObject, type ZodOpenApiPathsObject, type ZodOpenApiResponsesObject } from 'zod-openapi';
import { MediaRecord, UploadRequest, UploadTicket } from './contract';
import { described } from './pure-schema';
import { ERRORS, type ErrorCode } from './errors';
import { API_ROUTES } from './api-routes';
import { PATH_PARAMETERS, type ApiRouteSpec } from './route-spec';

/**
 * The OpenAPI 3.1 document of the HTTP contract (docs/architecture.md § Contract), generated from
 * the route table (routes.ts) and the zod schemas of contract.ts, so none of them can disagree. `npm run openapi` writes it to docs/openapi.json; the
 * local stack serves it at GET /openapi.json.
 */

const ERROR_CODES = Object.keys(ERRORS) as [ErrorCode, ...ErrorCode[]];

// The document's own schemas are built with the document, not when media-api's bundle loads:
// GET /openapi.json is the only request that needs them.
const problemDocument = () =>
  described(
    z.object({
      type: z.url(),
      title: z.string(),
      status: z.int(),
      detail: z.string(),
      code: described(z.enum(ERROR_CODES), { description: 'Stable machine-readable error code; branch on this, not on the status.' }),
      instance: z.optional(z.string()),
      issues: described(z.optional(z.array(z.object({ path: z.string(), message: z.string() }))), {
        description: 'Which fields were invalid (400 only).',
      }),
    }),
    { description: 'RFC 9457 problem details with a stable `code`.' },
  );

function pathParams(path: string): z.ZodMiniObject | undefined {
  const names = [...path.matchAll(/\{(\w+)\}/g)].map(([, name]) => name as string);
  if (names.length === 0) return undefined;
  return z.object(
    Object.fromEntries(
      names.map((name) => {
        const parameter = PATH_PARAMETERS[name as keyof typeof PATH_PARAMETERS];
        return [name, described(parameter.schema, { description: parameter.description })];
      }),
    ),
  );
}

const json = (schema: z.ZodMiniType, description: string) => ({ description, content: { 'application/json': { schema } } });

const retryAfterHeader = () =>
  z.object({
    'retry-after': described(z.string(), { description: 'Seconds to wait before asking again.' }),
  });

/** The schemas every operation shares, one instance each so the document names them once. */
interface SharedSchemas {
  problem: z.ZodMiniType;
  retryAfter: z.ZodMiniObject;
}

/** One response per status, naming the codes a route may answer with under it. */
function problemResponses(codes: readonly ErrorCode[], { problem, retryAfter }: SharedSchemas): ZodOpenApiResponsesObject {
  const byStatus = new Map<number, ErrorCode[]>();
  for (const code of codes) byStatus.set(ERRORS[code].status, [...(byStatus.get(ERRORS[code].status) ?? []), code]);
  const responses: ZodOpenApiResponsesObject = {};
  for (const [status, list] of [...byStatus].sort(([a], [b]) => a - b)) {
    responses[String(status) as '400'] = {
      description: list.map((code) => `\`${code}\`: ${ERRORS[code].title}`).join('; '),
      content: { 'application/problem+json': { schema: problem } },
      ...(status === 429 ? { headers: retryAfter } : {}),
    };
  }
  responses.default = {
    description: '`INTERNAL` or `SERVICE_UNAVAILABLE`: something failed on our side; never caused by what the client sent',
    content: { 'application/problem+json': { schema: problem } },
  };
  return responses;
}

/** A route of the route table as an OpenAPI operation. */
function operationObject(route: ApiRouteSpec, shared: SharedSchemas): ZodOpenApiOperationObject {
  const path = pathParams(route.path);
  const requestParams = {
    ...(path ? { path } : {}),
    ...(route.query ? { query: route.query } : {}),
  };
  const { status, description, schema } = route.answer;
  return {
    operationId: route.operationId,
    summary: route.summary,
    ...(route.public ? { security: [] } : {}),
    ...(Object.keys(requestParams).length ? { requestParams } : {}),
    ...(route.body ? { requestBody: { required: true, content: { 'application/json': { schema: route.body } } } } : {}),
    responses: {
      [status]: schema ? json(schema, description) : { description },
      ...problemResponses(route.errors, shared),
    },
  };
}

function buildDocument() {
  const shared: SharedSchemas = { problem: problemDocument(), retryAfter: retryAfterHeader() };
  const paths: ZodOpenApiPathsObject = {};
  for (const route of API_ROUTES)
    paths[route.path] = { ...paths[route.path], [route.method.toLowerCase()]: operationObject(route, shared) };
  return createDocument(
    {
      openapi: '3.1.0',
      info: {
        title: 'Media service',
        version: '1.0.0',
        // The service is the school platform's own, not published under an open licence.
        license: { name: 'Proprietary', identifier: 'LicenseRef-Proprietary' },
        description:
          'Direct-to-storage media uploads for the school platform. Ask for an upload, POST the file to the ' +
          'presigned URL, wait for the record to become `ready`, then ask for short-lived download URLs.',
      },
      servers: [
        { url: '/', description: 'The host that serves this document: a deployment at its `ApiUrl`, or the local stack (`npm start`).' },
      ],
      security: [{ bearer: [] }],
      paths,
      components: {
        securitySchemes: { bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } },
        schemas: {
          UploadRequest,
          UploadTicket,
          MediaRecord,
          Problem: shared.problem,
        },
      },
    },
    {
      // zod closes output objects (additionalProperties: false); answers may gain fields over time,
      // so clients must not be told to refuse them. Request bodies stay strict.
      override: ({ jsonSchema, io }) => {
        if (io === 'output' && jsonSchema.type === 'object' && jsonSchema.additionalProperties === false) {
          delete jsonSchema.additionalProperties;
        }
      },
    },
  );
}

let cached: ReturnType<typeof buildDocument> | undefined;

/** The document; built once per process (it only depends on code). */
export function openApiDocument() {
  cached ??= buildDocument();
  return cached;
}

/** The exact text of docs/openapi.json. */
export const openApiJson = (): string => `${JSON.stringify(openApiDocument(), null, 2)}\n`;
