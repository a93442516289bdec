/** The vocabulary of a media item: states, variants, formats. */
export const MEDIA_STATUSES = ['pending', 'processing', 'ready', 'rejected', 'expired', 'deleted'] as const;
export type MediaStatus = (typeof MEDIA_STATUSES)[number];

export const VARIANT_NAMES = ['original', 'thumb', 'small', 'medium', 'large', 'ml'] as const;
export type VariantName = (typeof VARIANT_NAMES)[number];
export type DerivativeName = Exclude<VariantName, 'original'>;

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
