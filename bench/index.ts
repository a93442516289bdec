/**
 * `npm run bench`: the derivative pipeline (bench/derivatives.ts; `--limits` for memory at the pixel
 * limits), or with `--cold` the functions' cold start from their synthesized bundles
 * (bench/cold-start.ts).
 */
export {};
if (process.argv.includes('--cold')) await import('./cold-start');
else await import('./derivatives');
