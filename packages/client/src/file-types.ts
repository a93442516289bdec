/**
 * The type a file declares by its name, as a browser does; the service checks the real bytes.
 * Browsers that know no type for a name (Chrome on Linux and Windows gives `.heic` files none)
 * leave `File.type` empty, so the client falls back to this map too.
 */
const TYPES_BY_EXTENSION: Record<string, string> = {
  jpg: 'image/jpeg',
  jpeg: 'image/jpeg',
  png: 'image/png',
  webp: 'image/webp',
  gif: 'image/gif',
  avif: 'image/avif',
  tif: 'image/tiff',
  tiff: 'image/tiff',
  heic: 'image/heic',
  heif: 'image/heif',
  hif: 'image/heif',
  mp4: 'video/mp4',
  m4v: 'video/mp4',
  mov: 'video/quicktime',
  webm: 'video/webm',
};

export const contentTypeByName = (filename: string): string | undefined => {
  const extension = /\.([^./\\]+)$/.exec(filename)?.[1]?.toLowerCase();
  return extension === undefined ? undefined : TYPES_BY_EXTENSION[extension];
};
