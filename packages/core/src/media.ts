/** The vocabulary of a media item: states, variants, formats. */
export const MEDIA_STATUSES = ['pending', 'processing', 'ready', 'rejected', 'expired', 'deleted'] as const;
export type MediaStatus = (typeof MEDIA_STATUSES)[number];

export const VARIANT_NAMES = ['original', 'thumb', 'small', 'medium', 'large', 'ml'] as const;
export type VariantName = (typeof VARIANT_NAMES)[number];
export type DerivativeName = Exclude<VariantName, 'original'>;

/** The face stage's variants (docs/imaging.md § Faces): `blurred`, and `faces/N`, the Nth face's aligned crop. */
export type FaceVariantName = 'blurred' | `faces/${number}`;
/** What a download may name: a variant of processing, or one of the face stage. */
export type DownloadVariant = VariantName | FaceVariantName;
export const isFaceVariant = (variant: string): variant is FaceVariantName => /^(?:blurred|faces\/(?:0|[1-9][0-9]{0,2}))$/.test(variant);

export type DerivativeFormat = 'webp' | 'avif' | 'jpeg';

export interface StoredVariant {
  name: VariantName;
  format: string;
  width: number;
  height: number;
  size: number;
  key: string;
  contentType: string;
}

export const FORMAT_CONTENT_TYPES: Record<DerivativeFormat, string> = {
  webp: 'image/webp',
  avif: 'image/avif',
  jpeg: 'image/jpeg',
};
