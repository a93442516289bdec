import sharp from 'sharp';
import { orientationOnlyExif } from './exif';
import { removeGifMetadata } from './gif-metadata';
import { removeHeifMetadata } from './heif-metadata';
import type { AcceptedType } from './inspection';
import { removeJpegMetadata } from './jpeg-metadata';
import { removePngMetadata } from './png-metadata';
import { UploadRejected } from './rejection';
import { removeWebpMetadata } from './webp-metadata';

export type RemovalMethod = 'container' | 're-encoded';

export interface CleanOriginal {
  data: Buffer;
  /** `container`: the same image data without its metadata blocks; `re-encoded`: decoded and written anew. */
  method: RemovalMethod;
}

/**
 * The original as it is kept: the upload without its metadata. JPEG, PNG, WebP and GIF lose their
 * metadata blocks at the container level, their image data copied byte for byte, so they decode
 * to exactly the pixels of the upload; an orientation other than 1 is kept as an EXIF block with
 * that tag alone, so a viewer still turns them upright. AVIF loses its metadata items the same
 * way (heif-metadata.ts) when its structure is the common one, and so does a HEIC, which shares
 * AVIF's container (HEIF) and keeps its `irot`/`imir` and colour profile; an AVIF it does not cover, and every
 * TIFF (which keeps metadata tags among the ones that say how to read the pixels), is decoded and
 * written anew, upright, with its ICC profile and no other metadata: AVIF losslessly (4:4:4, the
 * decoded pixels exactly), TIFF with lossless deflate.
 */
export async function removeMetadata(image: Buffer, type: AcceptedType, orientation: number, maxPixels: number): Promise<CleanOriginal> {
  const exif = orientation === 1 ? null : orientationOnlyExif(orientation);
  switch (type) {
    case 'image/jpeg':
      return { data: removeJpegMetadata(image, exif), method: 'container' };
    case 'image/png':
      return { data: removePngMetadata(image, exif), method: 'container' };
    case 'image/webp':
      return { data: removeWebpMetadata(image, exif), method: 'container' };
    case 'image/gif':
      return { data: removeGifMetadata(image), method: 'container' };
    case 'image/avif': {
      const data = removeHeifMetadata(image);
      return data ? { data, method: 'container' } : { data: await reencoded(image, type, maxPixels), method: 're-encoded' };
    }
    case 'image/heic': {
      // No HEVC encoder ships here, so a HEIC the rewrite does not cover cannot be written anew.
      const data = removeHeifMetadata(image);
      if (!data)
        throw new UploadRejected(
          'UNSUPPORTED_CONTAINER',
          'This HEIC file is built in a way the service cannot clean of its metadata; export it as JPEG and upload that.',
        );
      return { data, method: 'container' };
    }
    case 'image/tiff':
      return { data: await reencoded(image, type, maxPixels), method: 're-encoded' };
  }
}

async function reencoded(image: Buffer, type: 'image/avif' | 'image/tiff', maxPixels: number): Promise<Buffer> {
  // The first frame or page, as every derivative uses; sharp writes no metadata but the profile kept here.
  const decoded = sharp(image, { failOn: 'error', limitInputPixels: maxPixels, animated: false }).autoOrient().keepIccProfile();
  return type === 'image/avif'
    ? decoded.avif({ lossless: true, effort: 0 }).toBuffer()
    : decoded.tiff({ compression: 'deflate', predictor: 'horizontal' }).toBuffer();
}
