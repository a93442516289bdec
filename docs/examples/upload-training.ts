// docs/examples/upload-training.ts: a service uploads a photo for training, waits until it is
// ready, then lists its ready training photos with a URL of each one's `ml` variant.
// Run it from the repository after `npm ci`: node --import tsx docs/examples/upload-training.ts <photo>
import { createMediaClient, isMediaApiError } from '@media/client';
import { uploadFile } from '@media/client/node';

// Where a service keeps its current access token (refreshed elsewhere); here, MEDIA_TOKEN.
const tokens = { current: () => process.env.MEDIA_TOKEN ?? '' };

const media = createMediaClient({ baseUrl: process.env.MEDIA_API_URL ?? 'http://127.0.0.1:3000', getToken: () => tokens.current() });
try {
  const { mediaId } = await uploadFile(media, process.argv[2] ?? 'docs/sample/photo.jpg', { purpose: 'training' });
  await media.waitUntilReady(mediaId, { timeoutMs: 60_000 });
  for await (const page of media.list({ purpose: 'training', status: 'ready' })) {
    for (const item of page.items) console.log(item.id, (await media.downloadUrl(item.id, 'ml')).url);
  }
} catch (error) {
  if (!isMediaApiError(error)) throw error;
  console.error(`${error.code}: ${error.detail}`);
  process.exitCode = 1;
}
