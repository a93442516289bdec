/** The part of heic-decode's (untyped, CommonJS) API the engine uses: the primary image as 8-bit RGBA. */
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
