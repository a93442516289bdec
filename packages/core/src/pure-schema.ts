// zod's mini API, not the classic one: the same parser, without the methods classic installs on
// every schema it builds. At cold start that was about 20 ms of an API function's init (the classic
// build of one request schema alone: 27 ms, against 8 ms in mini), for schemas that only parse.
import * as z from 'zod/mini';
import './schema-messages';

/**
 * A schema of the contract, built where it is defined. Called as `/* @__PURE__ *\/ pureSchema(() => …)`,
 * a schema no code of a bundle uses is left out of it by esbuild (a pure call whose argument is a
 * closure can go), so a function builds the schemas of its own routes at cold start, not all of them.
 * A plain `z.object({…})` cannot be: its argument's calls might have effects.
 */
export const pureSchema = <T>(build: () => T): T => build();

/**
 * An answer's schema. Answers are not parsed at run time (the handlers build them, typed by these
 * schemas); only the OpenAPI document and the tests read the schemas. So an answer's parts are
 * built the first time something reads them, not at every function's cold start: a `z.lazy`, whose
 * type and document are those of the schema it builds. Called as `/* @__PURE__ *\/ answerSchema(() => …)`.
 */
export const answerSchema = <T extends z.ZodMiniType>(build: () => T): z.ZodMiniLazy<T> => z.lazy(build);

/** A schema with its description (and any other OpenAPI metadata): a copy, the schema itself unchanged. */
export const described = <T extends z.ZodMiniType>(schema: T, meta: z.core.GlobalMeta): T => schema.check(z.meta(meta)) as T;
