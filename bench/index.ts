/**
 * `npm run bench`: the derivative pipeline (bench/derivatives.ts; `--limits` for memory at the pixel
 * limits), then a 12 MP HEIC from upload to ready (bench/heic.ts; `--heic` for that alone), or with
 * `--cold` the functions' cold start from their synthesized bundles (bench/cold-start.ts), or with
 * `--faces` the face stage against the bare library (bench/faces.ts; also run after the HEIC part).
 */
export {};
if (process.argv.includes('--cold')) await import('./cold-start');
else if (process.argv.includes('--heic')) await import('./heic');
else if (process.argv.includes('--faces')) await import('./faces');
else {
  await import('./derivatives');
  if (!process.argv.includes('--limits')) {
    await import('./heic');
    await import('./faces');
  }
}
