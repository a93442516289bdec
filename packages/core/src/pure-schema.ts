/**
 * A schema of the contract, built where it is defined. Called as `/* @__PURE__ *\/ pureSchema(() => …)`,
 * a schema no code of a bundle uses is left out of it by esbuild (a pure call whose argument is a
 * closure can go), so a function builds the schemas of its own routes at cold start, not all of them.
 * A plain `z.object({…})` cannot be: its argument's calls might have effects.
 */
export const pureSchema = <T>(build: () => T): T => build();
