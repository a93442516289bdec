import Ajv2020 from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openApiDocument } from '@media/core/openapi';
import type { DevTokenClaims } from '@media/local';
import { makePhoto } from '../fixtures/photos';
import { seedReadyMedia } from '../access/seeded-media';
import { uniqueTenant } from '../support/database';
import { startTestStack, type TestStack } from '../support/test-stack';

/**
 * The contract, checked the way schemathesis checks an API: requests generated from the OpenAPI
 * document itself (valid ones, and mutations of them that break the schema), sent by every kind
 * of caller to every operation of the running local stack. Every answer must be one the document
 * declares, with its content type and a body valid against its schema; nothing answers 5xx; no
 * request that breaks the schema is accepted.
 */

type Schema = Record<string, any>;
type Operation = { method: string; path: string; op: Schema };
type Sent = { method: string; path: string; query: Record<string, string>; body?: unknown; rawBody?: string; valid: boolean; why: string };

const doc = openApiDocument() as unknown as {
  paths: Record<string, Record<string, Schema>>;
  components: { schemas: Record<string, Schema> };
};

/** The document's `$ref`s inlined, so each schema stands alone for the generator and for Ajv. */
function inline(schema: Schema): Schema {
  if (Array.isArray(schema)) return schema.map(inline) as unknown as Schema;
  if (!schema || typeof schema !== 'object') return schema;
  if (typeof schema.$ref === 'string') return inline(doc.components.schemas[schema.$ref.replace('#/components/schemas/', '')]!);
  return Object.fromEntries(Object.entries(schema).map(([k, v]) => [k, inline(v)]));
}

/** A small seeded generator, so a failure names a seed that replays it. */
function random(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return { next, pick: <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)]!, chance: (p: number) => next() < p };
}
type Random = ReturnType<typeof random>;

const STRING_CANDIDATES = ['pupil-7', 'c-1', 'image/jpeg', 'video/mp4', 'a', 'photo.jpg', '0'.repeat(64), 'x'.repeat(40)];

/** A value the schema accepts. */
function sample(schema: Schema, rnd: Random, known: Record<string, string>): unknown {
  if (schema.const !== undefined) return schema.const;
  if (schema.enum) return rnd.pick(schema.enum);
  const options = schema.anyOf ?? schema.oneOf;
  if (options) return sample(rnd.pick((options as Schema[]).filter((o) => o.type !== 'null')), rnd, known);
  const type = Array.isArray(schema.type) ? schema.type.find((t: string) => t !== 'null') : schema.type;
  switch (type) {
    case 'string': {
      if (schema.format === 'uuid') return known.mediaId;
      if (schema.format === 'date-time') return new Date().toISOString();
      if (schema.format === 'uri') return 'https://platform.school/x';
      const fits = (s: string) =>
        s.length >= (schema.minLength ?? 0) &&
        s.length <= (schema.maxLength ?? Infinity) &&
        (!schema.pattern || new RegExp(schema.pattern, 'u').test(s));
      return STRING_CANDIDATES.find(fits) ?? 'a'.repeat(Math.max(1, schema.minLength ?? 1));
    }
    case 'integer':
    case 'number': {
      const low = schema.minimum ?? (schema.exclusiveMinimum !== undefined ? schema.exclusiveMinimum + 1 : 1);
      const high = Math.min(schema.maximum ?? low + 5_000_000, low + 5_000_000);
      return Math.floor(low + rnd.next() * (high - low));
    }
    case 'boolean':
      return rnd.chance(0.5);
    case 'array': {
      const n = Math.max(schema.minItems ?? 0, Math.min(schema.maxItems ?? 3, 1 + Math.floor(rnd.next() * 3)));
      return Array.from({ length: n }, () => sample(schema.items ?? {}, rnd, known));
    }
    case 'object': {
      const out: Record<string, unknown> = {};
      for (const [name, property] of Object.entries((schema.properties ?? {}) as Record<string, Schema>)) {
        if (schema.required?.includes(name) || rnd.chance(0.4)) out[name] = sample(property, rnd, known);
      }
      return out;
    }
    default:
      return {};
  }
}

/** Values the schema refuses, each with what is wrong with it. */
function mutations(schema: Schema, valid: unknown): [unknown, string][] {
  const out: [unknown, string][] = [];
  const type = Array.isArray(schema.type) ? schema.type.find((t: string) => t !== 'null') : schema.type;
  if (type === 'object' && valid && typeof valid === 'object') {
    out.push([[valid], 'an array instead of an object'], ['text', 'a string instead of an object']);
    for (const name of (schema.required ?? []) as string[]) {
      const { [name]: _dropped, ...rest } = valid as Record<string, unknown>;
      out.push([rest, `without required ${name}`]);
    }
    for (const [name, property] of Object.entries((schema.properties ?? {}) as Record<string, Schema>)) {
      const wrong = property.type === 'string' || property.enum ? 12345 : 'not-a-number';
      out.push([{ ...(valid as object), [name]: wrong }, `${name} of the wrong type`]);
      if (property.enum) out.push([{ ...(valid as object), [name]: 'not-a-member' }, `${name} outside its enum`]);
      if (property.maxLength) out.push([{ ...(valid as object), [name]: 'x'.repeat(property.maxLength + 1) }, `${name} too long`]);
    }
    if (schema.additionalProperties === false) out.push([{ ...(valid as object), surprise: true }, 'an unknown property']);
  }
  return out;
}

const ajv = new Ajv2020({ strict: false, allErrors: true });
addFormats(ajv);
const validators = new Map<Schema, ReturnType<typeof ajv.compile>>();
const validate = (schema: Schema, value: unknown) => {
  let check = validators.get(schema);
  if (!check) validators.set(schema, (check = ajv.compile(inline(schema))));
  return check(value) ? undefined : ajv.errorsText(check.errors);
};

const operations: Operation[] = Object.entries(doc.paths).flatMap(([path, methods]) =>
  Object.entries(methods).map(([method, op]) => ({ method: method.toUpperCase(), path, op })),
);

describe('every operation, as the document describes it', () => {
  let stack: TestStack;
  const tenant = uniqueTenant('contract');
  const elsewhere = uniqueTenant('contract-other');
  const known: Record<string, string> = {};
  const callers: [string, DevTokenClaims | 'none' | 'garbage'][] = [
    ['admin', { role: 'admin', tenant, sub: 'admin-1' }],
    ['teacher', { role: 'teacher', tenant, sub: 't-1', classrooms: ['c-1'] }],
    ['student', { role: 'student', tenant, sub: 'pupil-7', classrooms: ['c-1'] }],
    ['ai-service', { role: 'service', tenant, sub: 'ai-service' }],
    ['user-service', { role: 'service', tenant, sub: 'user-service' }],
    ['analytics-service', { role: 'service', tenant, sub: 'analytics-service' }],
    ["another school's admin", { role: 'admin', tenant: elsewhere, sub: 'admin-2' }],
    ['no token', 'none'],
    ['a forged token', 'garbage'],
  ];
  const tokens = new Map<string, string | undefined>();
  const seed = Number(process.env.CONTRACT_SEED ?? Date.now() % 100_000);

  beforeAll(async () => {
    stack = await startTestStack();
    const photo = await makePhoto({ width: 64, height: 48 });
    const [item] = await seedReadyMedia(
      stack,
      [{ tenant, purpose: 'attendance', subjectId: 'pupil-7', classroomId: 'c-1', uploadedBy: 't-1' }],
      photo,
    );
    known.mediaId = item!.id;
    for (const [name, claims] of callers) {
      tokens.set(
        name,
        claims === 'none' ? undefined : claims === 'garbage' ? 'eyJhbGciOiJIUzI1NiJ9.e30.forged' : await stack.token(claims),
      );
    }
  });
  afterAll(() => stack?.close());

  /** The requests for one operation: one valid request, and (for the first caller) each mutation of it. */
  function requestsFor({ method, path, op }: Operation, rnd: Random, withMutations: boolean): Sent[] {
    const pathValues: Record<string, string> = {
      id: known.mediaId!,
      subjectId: 'pupil-7',
      erasureId: known.mediaId!,
      exportId: known.mediaId!,
    };
    const query: Record<string, string> = {};
    const parameters = ((op.parameters ?? []) as Schema[]).map(inline);
    for (const p of parameters.filter((p) => p.in === 'query')) {
      if (p.required || rnd.chance(0.5)) query[p.name] = String(sample(p.schema, rnd, known));
    }
    const bodySchema = op.requestBody?.content?.['application/json']?.schema as Schema | undefined;
    const body = bodySchema ? sample(inline(bodySchema), rnd, known) : undefined;
    const concrete = path.replace(/\{(\w+)\}/g, (_, name: string) => encodeURIComponent(pathValues[name]!));
    const sent: Sent[] = [{ method, path: concrete, query, body, valid: true, why: 'valid' }];
    if (!withMutations) return sent;
    for (const [mutated, why] of bodySchema ? mutations(inline(bodySchema), body) : []) {
      sent.push({ method, path: concrete, query, body: mutated, valid: false, why: `body ${why}` });
    }
    if (bodySchema) sent.push({ method, path: concrete, query, rawBody: '{"not json', valid: false, why: 'a body that is not JSON' });
    for (const p of parameters.filter((p) => p.in === 'query')) {
      if (p.schema.enum || p.schema.type === 'integer') {
        sent.push({
          method,
          path: concrete,
          query: { ...query, [p.name]: 'not-a-member' },
          body,
          valid: false,
          why: `query ${p.name} out of its schema`,
        });
      }
    }
    if (path.includes('{')) {
      const malformed = path.replace(/\{(\w+)\}/g, () => '%25not%20an%20id');
      sent.push({ method, path: malformed, query, body, valid: false, why: 'a malformed path id' });
    }
    return sent;
  }

  async function send(request: Sent, token: string | undefined) {
    const qs = new URLSearchParams(request.query).toString();
    const res = await fetch(`${stack.apiUrl}${request.path}${qs ? `?${qs}` : ''}`, {
      method: request.method,
      headers: {
        ...(token ? { authorization: `Bearer ${token}` } : {}),
        ...(request.body !== undefined || request.rawBody ? { 'content-type': 'application/json' } : {}),
      },
      body: request.rawBody ?? (request.body === undefined ? undefined : JSON.stringify(request.body)),
    });
    const text = await res.text();
    return { status: res.status, type: (res.headers.get('content-type') ?? '').split(';')[0]!, text };
  }

  /** What is wrong with an answer, measured against the operation's documented responses. */
  function breaches(op: Schema, answer: { status: number; type: string; text: string }): string[] {
    if (answer.status >= 500) return [`answered ${answer.status}: ${answer.text.slice(0, 200)}`];
    const documented = op.responses[String(answer.status)] as Schema | undefined;
    if (!documented)
      return [`answered ${answer.status}, which the document does not declare (declared: ${Object.keys(op.responses).join(', ')})`];
    if (!documented.content) return answer.text === '' ? [] : [`answered ${answer.status} with a body where none is declared`];
    const media = documented.content[answer.type] as Schema | undefined;
    if (!media)
      return [`answered ${answer.status} as ${answer.type || 'no content type'}, declared ${Object.keys(documented.content).join(', ')}`];
    let parsed: unknown;
    try {
      parsed = JSON.parse(answer.text);
    } catch {
      return [`answered ${answer.status} with a body that is not JSON`];
    }
    const invalid = validate(media.schema, parsed);
    return invalid ? [`answered ${answer.status} with a body the schema refuses: ${invalid}`] : [];
  }

  it.each(operations.map((o) => [`${o.method} ${o.path}`, o] as const))(
    '%s answers only as documented, to every caller and every mutation',
    async (_name, operation) => {
      const rnd = random(seed + operation.path.length * 31 + operation.method.length);
      const found: string[] = [];
      for (const [index, [caller]] of callers.entries()) {
        for (const request of requestsFor(operation, rnd, index === 0)) {
          const answer = await send(request, tokens.get(caller));
          const where = `${caller}, ${request.why} (${request.method} ${request.path}, seed ${seed})`;
          for (const breach of breaches(operation.op, answer)) found.push(`${where}: ${breach}`);
          if (!request.valid && answer.status < 300) found.push(`${where}: accepted a request the schema refuses (${answer.status})`);
        }
      }
      expect(found).toEqual([]);
    },
  );
});
