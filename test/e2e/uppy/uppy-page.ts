import AwsS3 from '@uppy/aws-s3';
import Uppy from '@uppy/core';

/**
 * A browser page that uploads with Uppy's S3 plugin in multipart mode, configured only with
 * functions that call the media service's routes. To resume after a reload it does what Uppy's
 * Golden Retriever does: it remembers each file's upload (id and key) and hands it back to Uppy
 * when the same file is chosen again; Uppy then lists the parts and sends only the missing ones.
 */
declare global {
  interface Window {
    mediaTest: { token: string; partSize: number; parts: number; listed: number; done?: { mediaId: string }; error?: string };
  }
}

const state = window.mediaTest;
const api = async <T>(method: string, path: string, body?: unknown): Promise<T> => {
  const res = await fetch(path, {
    method,
    headers: { authorization: `Bearer ${state.token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${await res.text()}`);
  return (res.status === 204 ? undefined : await res.json()) as T;
};

const fingerprint = (file: { name?: string; size: number | null; data?: unknown }) =>
  `upload:${file.name}:${file.size}:${file.data instanceof File ? file.data.lastModified : 0}`;

const uppy = new Uppy({ autoProceed: false });
uppy.use(AwsS3, {
  shouldUseMultipart: true,
  // The part size the service plans with (MEDIA_MULTIPART_PART_BYTES); it checks every part against it.
  getChunkSize: () => state.partSize,
  async createMultipartUpload(file) {
    const ticket = await api<{ mediaId: string; multipart: { uploadId: string } }>('POST', '/v1/uploads', {
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
    const { parts } = await api<{ parts: { url: string }[] }>('POST', `/v1/uploads/${key}/parts`, { partNumbers: [partNumber] });
    return { method: 'PUT', url: parts[0]!.url };
  },
  async listParts(_file, { key }) {
    state.listed += 1;
    const { parts } = await api<{ parts: { partNumber: number; etag: string; size: number }[] }>('GET', `/v1/uploads/${key}/parts`);
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
  const saved = file && 's3Multipart' in file ? (file.s3Multipart as { key: string } | undefined) : undefined;
  state.done = { mediaId: saved?.key ?? '' };
});
uppy.on('upload-error', (_file, error) => {
  state.error = String(error);
});

document.getElementById('file')!.addEventListener('change', (event) => {
  const input = event.target as HTMLInputElement;
  const chosen = input.files?.[0];
  if (!chosen) return;
  const id = uppy.addFile({ name: chosen.name, type: chosen.type, data: chosen });
  const file = uppy.getFile(id);
  const saved = localStorage.getItem(fingerprint(file));
  if (saved) {
    // The state Uppy keeps of a multipart upload (file.s3Multipart), as Golden Retriever restores it.
    const restored = { meta: file.meta, s3Multipart: JSON.parse(saved) as { uploadId: string; key: string } };
    uppy.setFileState(id, restored);
  }
  void uppy.upload();
});
document.body.dataset.ready = 'true';
