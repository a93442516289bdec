// Plain JavaScript on purpose: Uppy 5 is installed beside Uppy 6 under aliases (@uppy/aws-s3-v5,
// @uppy/core-v5), and its type declarations import '@uppy/core', which here is 6. The test bundles
// this page with esbuild, aliasing '@uppy/core' to the 5.x copy, so the code runs on Uppy 5 alone.
import AwsS3 from '@uppy/aws-s3-v5';
import Uppy from '@uppy/core-v5';

/**
 * A browser page that uploads with Uppy 5's S3 plugin in multipart mode, configured only with
 * functions that call the media service's routes. To resume after a reload it does what Uppy's
 * Golden Retriever does: it remembers each file's upload (id and key) and hands it back to Uppy
 * when the same file is chosen again; Uppy then lists the parts and sends only the missing ones.
 *
 * `window.mediaTest` (set by the test): { token, partSize, parts, listed, done?: { mediaId }, error? }.
 */
const state = window.mediaTest;
const api = async (method, path, body) => {
  const res = await fetch(path, {
    method,
    headers: { authorization: `Bearer ${state.token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${await res.text()}`);
  return res.status === 204 ? undefined : res.json();
};

const fingerprint = (file) => `upload:${file.name}:${file.size}:${file.data instanceof File ? file.data.lastModified : 0}`;

const uppy = new Uppy({ autoProceed: false });
uppy.use(AwsS3, {
  shouldUseMultipart: true,
  // The part size the service plans with (MEDIA_MULTIPART_PART_BYTES); it checks every part against it.
  getChunkSize: () => state.partSize,
  async createMultipartUpload(file) {
    const ticket = await api('POST', '/v1/uploads', {
      purpose: 'general',
      contentType: file.type,
      size: file.size,
      filename: file.name,
      multipart: true,
    });
    const upload = { uploadId: ticket.multipart.uploadId, key: ticket.mediaId };
    localStorage.setItem(fingerprint(file), JSON.stringify(upload));
    return upload;
  },
  async signPart(_file, { key, partNumber }) {
    const { parts } = await api('POST', `/v1/uploads/${key}/parts`, { partNumbers: [partNumber] });
    return { method: 'PUT', url: parts[0].url };
  },
  async listParts(_file, { key }) {
    state.listed += 1;
    const { parts } = await api('GET', `/v1/uploads/${key}/parts`);
    return parts.map((p) => ({ PartNumber: p.partNumber, ETag: p.etag, Size: p.size }));
  },
  async completeMultipartUpload(file, { key, parts }) {
    await api('POST', `/v1/uploads/${key}/complete`, { parts: parts.map((p) => ({ partNumber: p.PartNumber, etag: p.ETag })) });
    localStorage.removeItem(fingerprint(file));
    return {};
  },
  async abortMultipartUpload(_file, { key }) {
    await api('DELETE', `/v1/uploads/${key}`);
  },
});
uppy.on('s3-multipart:part-uploaded', () => {
  state.parts += 1;
});
uppy.on('upload-success', (file) => {
  state.done = { mediaId: file?.s3Multipart?.key ?? '' };
});
uppy.on('upload-error', (_file, error) => {
  state.error = String(error);
});

document.getElementById('file').addEventListener('change', (event) => {
  const chosen = event.target.files?.[0];
  if (!chosen) return;
  const id = uppy.addFile({ name: chosen.name, type: chosen.type, data: chosen });
  const file = uppy.getFile(id);
  const saved = localStorage.getItem(fingerprint(file));
  if (saved) {
    // The state Uppy keeps of a multipart upload (file.s3Multipart), as Golden Retriever restores it.
    uppy.setFileState(id, { meta: file.meta, s3Multipart: JSON.parse(saved) });
  }
  void uppy.upload();
});
document.body.dataset.ready = 'true';
