// A namespace import lets esbuild drop what is unused (zod's locales alone are 370 KB).
import * as z from 'zod';

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
export const answerSchema = <T extends z.ZodType>(build: () => T): z.ZodLazy<T> => z.lazy(build);
