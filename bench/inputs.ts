import sharp from 'sharp';

/**
 * A photo-like frame: detail at several scales (soft shapes, mid-size texture, fine grain), so that
 * downscaled variants still carry detail the encoders must work for, as a camera photo does. Pure
 * noise would be the encoders' worst case; a flat gradient would flatter them.
 */
export async function photoLike(
  width: number,
  height: number,
  options: { alpha?: boolean } = {},
): Promise<{ data: Buffer; info: { width: number; height: number; channels: 3 | 4 } }> {
  const layer = async (scale: number, sigma: number) => {
    const w = Math.max(8, Math.round(width / scale));
    const h = Math.max(8, Math.round(height / scale));
    return sharp({ create: { width: w, height: h, channels: 3, background: '#000', noise: { type: 'gaussian', mean: 128, sigma } } })
      .resize(width, height, { fit: 'fill', kernel: 'cubic' })
      .png({ compressionLevel: 0 })
      .toBuffer();
  };
  const [clouds, texture, grain] = await Promise.all([layer(96, 60), layer(12, 40), layer(1, 14)]);
  const shapes = Buffer.from(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}">
      <defs><linearGradient id="g" x1="0" y1="0" x2="1" y2="1"><stop offset="0" stop-color="#4a78b0"/><stop offset="1" stop-color="#e8c870"/></linearGradient></defs>
      <rect width="100%" height="100%" fill="url(#g)"/>
      <circle cx="${width * 0.3}" cy="${height * 0.6}" r="${height * 0.22}" fill="#b04a3a"/>
      <rect x="${width * 0.55}" y="${height * 0.2}" width="${width * 0.3}" height="${height * 0.5}" fill="#2f6a44"/>
    </svg>`,
  );
  const image = sharp(shapes).composite([
    { input: clouds, blend: 'soft-light' },
    { input: texture, blend: 'overlay' },
    { input: grain, blend: 'soft-light' },
  ]);
  const flat = await image.removeAlpha().raw().toBuffer({ resolveWithObject: true });
  if (!options.alpha) return { data: flat.data, info: { width, height, channels: 3 } };
  // A soft vignette of transparency: opaque centre, transparent corners.
  const mask = await sharp(
    Buffer.from(
      `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}">
      <defs><radialGradient id="r"><stop offset="0.6" stop-color="#fff"/><stop offset="1" stop-color="#000"/></radialGradient></defs>
      <rect width="100%" height="100%" fill="url(#r)"/></svg>`,
    ),
  )
    .extractChannel(0)
    .raw()
    .toBuffer();
  const withAlpha = await sharp(flat.data, { raw: { width, height, channels: 3 } })
    .joinChannel(mask, { raw: { width, height, channels: 1 } })
    .raw()
    .toBuffer();
  return { data: withAlpha, info: { width, height, channels: 4 } };
}
