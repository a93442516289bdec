/**
 * The upload page's script (runs in the browser, bundled by upload-page.ts): every file goes
 * through @media/client — a ticket from the API, the bytes straight to storage with XHR progress
 * (in parts past the service's multipart threshold), then the record is watched until it is ready
 * (placeholder, then thumbnail) or rejected. An upload in parts is remembered in localStorage until
 * it ends, so after a reload choosing the same file again sends only the parts storage lacks.
 */
import { thumbHashToDataURL } from 'thumbhash';
import {
  createMediaClient,
  isMediaApiError,
  MediaRejectedError,
  type MediaApiErrorCode,
  type MediaRecord,
  type Purpose,
  type RejectionCode,
} from '@media/client';

/** Every rejection code of the contract in words a parent or teacher understands (a new code must get its sentence). */
const REJECTIONS: Record<RejectionCode, string> = {
  EMPTY_FILE: 'The file is empty.',
  SIZE_MISMATCH: 'The file is not the size it claimed to be.',
  FILE_TOO_LARGE: 'The file is too large for this purpose.',
  UNSUPPORTED_MEDIA_TYPE: 'This kind of file is not accepted here.',
  TYPE_MISMATCH: 'The file’s content is not the type its name says.',
  UNSUPPORTED_CODEC: 'This image format cannot be processed; export it as JPEG and try again.',
  IMAGE_TOO_LARGE: 'The image has too many pixels.',
  CORRUPT_IMAGE: 'The image is damaged or incomplete.',
  POLYGLOT: 'The file hides something else besides the image.',
  UNSUPPORTED_CONTAINER: 'This video format or codec is not accepted; record as MP4 (H.264 or HEVC) and try again.',
  CORRUPT_VIDEO: 'The video is damaged or is not a video.',
  VIDEO_TOO_LONG: 'The video is longer than allowed.',
  VIDEO_TOO_COMPLEX: 'The video takes too much work to check; record it again with the phone’s camera app.',
  IMAGE_SEQUENCE: 'This file holds several photos (a burst or a sequence); choose one photo and upload it alone.',
};

/** Refusals of the API itself, in the same words; the service's detail follows. */
const REASONS: Partial<Record<string, string>> = {
  ...REJECTIONS,
  PAYLOAD_TOO_LARGE: 'The file is too large for this purpose.',
  QUOTA_EXCEEDED: 'The school’s storage is full.',
  FORBIDDEN: 'You may not upload for this purpose, person or classroom.',
  VALIDATION_FAILED: 'The upload request was not valid.',
  UNAUTHENTICATED: 'The access token is missing, invalid or expired.',
  TOO_MANY_PENDING_UPLOADS: 'Too many uploads are still open; wait a moment and try again.',
} satisfies Partial<Record<RejectionCode | MediaApiErrorCode, string>>;

const SIMULTANEOUS_UPLOADS = 4;

const byId = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const tokenBox = byId<HTMLTextAreaElement>('token');
const purposeSelect = byId<HTMLSelectElement>('purpose');
const classroomField = byId<HTMLDivElement>('classroom-field');
const classroomInput = byId<HTMLInputElement>('classroom');
const subjectInput = byId<HTMLInputElement>('subject');
const unfinishedBox = byId<HTMLDivElement>('unfinished');
const unfinishedList = byId<HTMLUListElement>('unfinished-list');
const fileInput = byId<HTMLInputElement>('files');
const dropZone = byId<HTMLDivElement>('drop');
const list = byId<HTMLOListElement>('uploads');
const status = byId<HTMLParagraphElement>('status');

const client = createMediaClient({
  baseUrl: location.origin,
  getToken: () => tokenBox.value.trim(),
  multipartThresholdBytes: Number(document.body.dataset.multipartThreshold) || undefined,
});

/** An upload in parts not yet finished: enough to know its file again when it is chosen anew. */
interface Unfinished {
  mediaId: string;
  name: string;
  size: number;
}
const UNFINISHED_KEY = 'media-service.unfinished-uploads';
const unfinished = {
  all(): Unfinished[] {
    try {
      const kept: unknown = JSON.parse(localStorage.getItem(UNFINISHED_KEY) ?? '[]');
      return Array.isArray(kept) ? (kept as Unfinished[]) : [];
    } catch {
      return [];
    }
  },
  save(list: Unfinished[]) {
    localStorage.setItem(UNFINISHED_KEY, JSON.stringify(list));
    showUnfinished();
  },
  // A browser keeps no file across a reload; its name and size find the upload again.
  find: (file: File) => unfinished.all().find((u) => u.name === file.name && u.size === file.size),
  add: (entry: Unfinished) => unfinished.save([...unfinished.all().filter((u) => u.mediaId !== entry.mediaId), entry]),
  forget: (mediaId: string) => unfinished.save(unfinished.all().filter((u) => u.mediaId !== mediaId)),
};
function showUnfinished() {
  const list = unfinished.all();
  unfinishedBox.hidden = list.length === 0;
  unfinishedList.replaceChildren(
    ...list.map((u) => {
      const item = document.createElement('li');
      item.textContent = `${u.name} (${megabytes(u.size)} MB)`;
      return item;
    }),
  );
}

const megabytes = (bytes: number) => (bytes / 1_000_000).toFixed(1);
/** A video's length as a person reads it: 8.6 s, 3:05, 1:02:07. */
function duration(seconds: number): string {
  if (seconds < 60) return `${seconds.toFixed(1)} s`;
  const whole = Math.round(seconds);
  const [h, m, s] = [Math.floor(whole / 3600), Math.floor((whole % 3600) / 60), whole % 60];
  const two = (n: number) => String(n).padStart(2, '0');
  return h > 0 ? `${h}:${two(m)}:${two(s)}` : `${m}:${two(s)}`;
}

const announce = (text: string) => {
  status.textContent = text;
};

const showClassroom = () => {
  const needed = purposeSelect.value === 'attendance';
  classroomField.hidden = !needed;
  classroomInput.required = needed;
};
purposeSelect.addEventListener('change', showClassroom);
showClassroom();

type State = 'waiting' | 'uploading' | 'processing' | 'ready' | 'rejected' | 'failed';

/** One file's row: thumbnail, name, progress bar, state in words. */
function fileRow(file: File) {
  const item = document.createElement('li');
  item.className = 'upload';
  item.innerHTML = `
    <img class="thumb" alt="" width="96" height="96">
    <div class="info">
      <span class="name"></span>
      <progress max="100" value="0"></progress>
      <span class="state"></span>
      <span class="detail"></span>
    </div>`;
  const name = item.querySelector<HTMLSpanElement>('.name')!;
  const bar = item.querySelector('progress')!;
  const stateText = item.querySelector<HTMLSpanElement>('.state')!;
  const detail = item.querySelector<HTMLSpanElement>('.detail')!;
  const img = item.querySelector('img')!;
  name.textContent = file.name;
  bar.setAttribute('aria-label', `Upload progress of ${file.name}`);
  list.append(item);

  const setState = (state: State, text: string, more = '') => {
    item.dataset.state = state;
    item.setAttribute('aria-busy', String(state === 'uploading' || state === 'processing' || state === 'waiting'));
    stateText.textContent = text;
    detail.textContent = more;
  };
  setState('waiting', 'waiting');

  const progress = ({ loaded, total, fraction }: { loaded: number; total: number; fraction: number }) => {
    const percent = Math.round(fraction * 100);
    bar.value = percent;
    bar.textContent = `${percent} %`;
    if (item.dataset.state === 'uploading') stateText.textContent = `uploading — ${percent} %`;
    // Bytes for the large ones, where a percent moves too slowly to show that anything happens.
    if (item.dataset.state === 'uploading' && item.dataset.parts === 'true') {
      detail.textContent = `${megabytes(loaded)} of ${megabytes(total)} MB sent`;
    }
  };
  const inParts = (resumed: boolean) => {
    item.dataset.parts = 'true';
    if (resumed) item.dataset.resumed = 'true';
  };

  /** The thumbhash placeholder at once, then the real thumbnail when it has loaded. */
  const showThumbnail = async (record: MediaRecord) => {
    img.alt = `Thumbnail of ${file.name}`;
    if (record.placeholder) {
      const hash = Uint8Array.from(atob(record.placeholder), (c) => c.charCodeAt(0));
      img.src = thumbHashToDataURL(hash);
      item.dataset.thumb = 'placeholder';
    }
    const { url } = await client.downloadUrl(record.id, 'thumb');
    const real = new Image();
    real.onload = () => {
      img.src = url;
      item.dataset.thumb = 'loaded';
    };
    real.onerror = () => {
      item.dataset.thumb = 'failed';
    };
    real.src = url;
  };

  return { setState, progress, inParts, showThumbnail };
}

interface Filing {
  purpose: Purpose;
  classroomId: string | undefined;
  subjectId: string | undefined;
}

/** Sends the file: goes on with its unfinished upload in parts if there is one, else starts anew. */
async function send(file: File, row: ReturnType<typeof fileRow>, { purpose, classroomId, subjectId }: Filing): Promise<string> {
  const onProgress = row.progress;
  const earlier = unfinished.find(file);
  if (earlier) {
    row.inParts(true);
    try {
      await client.resumeUpload(earlier.mediaId, file, { onProgress });
      unfinished.forget(earlier.mediaId);
      return earlier.mediaId;
    } catch (error) {
      // Expired, given up or not this token's: the upload starts again from the first byte.
      if (!isMediaApiError(error) || error.status < 400 || error.status >= 500) throw error;
      unfinished.forget(earlier.mediaId);
    }
  }
  const { mediaId } = await client.upload(
    file,
    { purpose, classroomId, subjectId },
    {
      onProgress,
      onMultipartStarted: (id) => {
        row.inParts(false);
        unfinished.add({ mediaId: id, name: file.name, size: file.size });
      },
    },
  );
  unfinished.forget(mediaId);
  return mediaId;
}

async function uploadOne(file: File, row: ReturnType<typeof fileRow>, filing: Filing) {
  try {
    row.setState('uploading', 'uploading — 0 %');
    const mediaId = await send(file, row, filing);
    row.progress({ loaded: file.size, total: file.size, fraction: 1 });
    row.setState('processing', 'processing');
    // A video takes longer: it is probed, remuxed and its poster frame made.
    const record = await client.waitUntilReady(mediaId, { timeoutMs: 300_000 });
    const size = `${record.width}×${record.height}`;
    row.setState('ready', record.kind === 'video' ? `ready — video, ${size}, ${duration(record.durationSeconds ?? 0)}` : `ready — ${size}`);
    announce(`${file.name} is ready.`);
    await row.showThumbnail(record);
  } catch (error) {
    if (error instanceof MediaRejectedError || (isMediaApiError(error) && error.status >= 400 && error.status < 500)) {
      const { code, detail } = error as MediaRejectedError;
      const words = REASONS[code] ?? 'The file was not accepted.';
      row.setState('rejected', `rejected: ${words}`, detail);
      announce(`${file.name} was rejected: ${words}`);
    } else {
      const message = (error as Error).message;
      row.setState('failed', 'failed', message);
      announce(`${file.name} failed: ${message}`);
    }
  }
}

/** Uploads a few files at a time; every file gets its row at once, in order. */
async function handleFiles(files: FileList | File[]) {
  const chosen = [...files];
  if (chosen.length === 0) return;
  const purpose = purposeSelect.value as Purpose;
  const classroomId = purpose === 'attendance' ? classroomInput.value.trim() || undefined : undefined;
  const subjectId = subjectInput.value.trim() || undefined;
  if (purpose === 'attendance' && !classroomId) {
    announce('Attendance photos need a classroom.');
    classroomInput.focus();
    return;
  }
  const queue = chosen.map((file) => ({ file, row: fileRow(file) }));
  announce(`Uploading ${chosen.length} file${chosen.length === 1 ? '' : 's'}…`);
  const worker = async () => {
    for (let next = queue.shift(); next; next = queue.shift()) await uploadOne(next.file, next.row, { purpose, classroomId, subjectId });
  };
  await Promise.all(Array.from({ length: Math.min(SIMULTANEOUS_UPLOADS, chosen.length) }, worker));
  const rows = [...list.querySelectorAll<HTMLLIElement>('li.upload')];
  const count = (state: State) => rows.filter((r) => r.dataset.state === state).length;
  announce(`Done: ${count('ready')} ready, ${count('rejected')} rejected, ${count('failed')} failed.`);
}

fileInput.addEventListener('change', () => {
  if (fileInput.files) void handleFiles(fileInput.files);
  fileInput.value = '';
});
for (const type of ['dragenter', 'dragover'] as const) {
  dropZone.addEventListener(type, (event) => {
    event.preventDefault();
    dropZone.classList.add('over');
  });
}
dropZone.addEventListener('dragleave', () => dropZone.classList.remove('over'));
dropZone.addEventListener('drop', (event) => {
  event.preventDefault();
  dropZone.classList.remove('over');
  if (event.dataTransfer?.files) void handleFiles(event.dataTransfer.files);
});
showUnfinished();
document.body.dataset.ready = 'true';
