import { createMediaClient, isMediaApiError } from '@media/client';
import { uppyS3Options } from '@media/client/uppy';
import AwsS3 from '@uppy/aws-s3';
import Uppy from '@uppy/core';
import GoldenRetriever from '@uppy/golden-retriever';

/**
 * A page wired as docs/client.md says for Uppy 6: Uppy's S3 plugin with `uppyS3Options`, and
 * Golden Retriever, which keeps the files' upload state (and small files' bytes) in IndexedDB
 * across a reload.
 */
declare global {
  interface Window {
    uppyTest: {
      apiUrl: string;
      token: string;
      multipartThresholdBytes: number;
      done: { name: string; mediaId: string; key: string }[];
      errors: { name: string; code: string; detail: string }[];
      /** Uppy's log lines (Golden Retriever says when it has stored a file's bytes). */
      log: string[];
      restored: boolean;
    };
    /** The page's Uppy, for the test to cancel with. */
    uppy: Uppy;
  }
}

const state = window.uppyTest;
const line = (...args: unknown[]) => state.log.push(args.map(String).join(' '));
const media = createMediaClient({ baseUrl: state.apiUrl, getToken: () => state.token });
const uppy = new Uppy({ id: 'media-e2e', autoProceed: false, logger: { debug: line, warn: line, error: line } });
uppy.use(GoldenRetriever);
uppy.use(AwsS3, uppyS3Options(media, uppy, { purpose: 'general', multipartThresholdBytes: state.multipartThresholdBytes }));

uppy.on('upload-success', (file, response) => {
  if (!file) return;
  // The event carries the file as it was when its upload began; the id was set since.
  const mediaId = uppy.getFile(file.id).meta.mediaId;
  state.done.push({ name: file.name, mediaId: String(mediaId), key: String(response.body?.key) });
});
uppy.on('upload-error', (file, error) => {
  state.errors.push({
    name: file?.name ?? '',
    code: isMediaApiError(error) ? error.code : error.name,
    detail: isMediaApiError(error) ? error.detail : error.message,
  });
});

// Golden Retriever keeps a file's bytes in IndexedDB only up to 10 MiB: a larger file comes back
// as a "ghost", its upload state kept, until the person chooses it again. Then the restored upload
// goes on (as the Dashboard's "resume" does).
const ghosts = () => uppy.getFiles().some((file) => file.isGhost);
let restoring = false;
uppy.on('restored', () => {
  state.restored = true;
  restoring = ghosts();
  if (!restoring) uppy.emit('restore-confirmed');
});

document.getElementById('files')!.addEventListener('change', (event) => {
  const input = event.target as HTMLInputElement;
  for (const chosen of input.files ?? []) uppy.addFile({ name: chosen.name, type: chosen.type, data: chosen });
  if (restoring && !ghosts()) {
    restoring = false;
    uppy.emit('restore-confirmed');
  } else if (!restoring) {
    void uppy.upload();
  }
});
window.uppy = uppy;
document.body.dataset.ready = 'true';
