/**
 * The parts of heic-decode and libheif-js (untyped, CommonJS) the engine uses. heic-decode's
 * `lib.js` takes the libheif to use; libheif-js's `libheif-wasm/libheif.js` loads `libheif.wasm`
 * from its own folder at run time.
 */
declare module 'heic-decode' {
  interface DecodedHeic {
    width: number;
    height: number;
    /** RGBA, 4 bytes a pixel, rows top to bottom, with `irot`/`imir`/`clap` applied. */
    data: Uint8ClampedArray;
  }
  function decode(input: { buffer: Uint8Array }): Promise<DecodedHeic>;
  export default decode;
}

declare module 'heic-decode/lib.js' {
  import type decode from 'heic-decode';
  /** The decoder bound to a libheif module. */
  function withLibheif(libheif: unknown): { one: typeof decode };
  export default withLibheif;
}

declare module 'libheif-js/libheif-wasm/libheif.js' {
  /** Instantiates libheif from `libheif.wasm` beside this file; `ready` settles once it is compiled. */
  function libheif(options?: object): { ready: Promise<unknown> };
  export default libheif;
}
