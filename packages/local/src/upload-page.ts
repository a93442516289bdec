import { buildSync } from 'esbuild';
import { fileURLToPath } from 'node:url';

const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

let script: string | undefined;

/**
 * The page's script with @media/client and thumbhash bundled in, built once per process: the page
 * runs the same client code services use, with no build step before `npm start`.
 */
function pageScript(): string {
  if (script === undefined) {
    const { outputFiles } = buildSync({
      entryPoints: [fileURLToPath(new URL('./upload-page-app.ts', import.meta.url))],
      bundle: true,
      format: 'esm',
      platform: 'browser',
      target: 'es2022',
      minify: true,
      write: false,
      logLevel: 'silent',
    });
    // Inline in a <script> element: a literal "</script" inside would end it early.
    script = outputFiles[0]!.text.replaceAll('</script', '<\\/script');
  }
  return script;
}

/** The page's icon (a photo frame), also answered at /favicon.ico for whoever asks there. */
export const FAVICON_SVG = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32"><rect x="2" y="5" width="28" height="22" rx="3" fill="#0b57d0"/><circle cx="11" cy="13" r="3" fill="#fff"/><path d="M5 24l8-8 5 5 4-3 6 6z" fill="#fff"/></svg>`;

/**
 * The page at `/`: choose a purpose, drop photos and videos, watch each one upload, process and
 * appear. `multipartThresholdBytes` is the service's: files this large go in parts, resumable.
 */
export function uploadPage({ token, multipartThresholdBytes }: { token: string; multipartThresholdBytes: number }): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Upload photos and videos — media service</title>
<link rel="icon" href="/favicon.svg" type="image/svg+xml">
<style>
  :root { color-scheme: light; --accent: #0b57d0; --bad: #a50e0e; --good: #146c2e; --line: #c4c7c5; }
  body { font: 16px/1.5 system-ui, sans-serif; max-width: 52rem; margin: 2rem auto; padding: 0 1rem; color: #1f1f1f; background: #fff; }
  h1 { font-size: 1.6rem; margin-bottom: .25rem; }
  h2 { font-size: 1.1rem; margin: 1.5rem 0 0; }
  label, legend { display: block; font-weight: 600; margin-top: 1rem; }
  .hint { color: #444746; font-size: .9rem; margin: .1rem 0 .4rem; }
  textarea, select, input[type=text] { width: 100%; font: inherit; padding: .45rem; box-sizing: border-box; border: 1px solid #747775; border-radius: 6px; }
  textarea { font-family: ui-monospace, monospace; font-size: .8rem; }
  :focus-visible { outline: 3px solid var(--accent); outline-offset: 2px; }
  .drop { margin-top: 1.25rem; border: 2px dashed #747775; border-radius: 10px; padding: 1.5rem; text-align: center; }
  .drop.over, .drop:focus-within { border-color: var(--accent); background: #eef3fd; }
  .drop label { margin: 0 0 .5rem; }
  input[type=file] { font: inherit; }
  ol { list-style: none; padding: 0; margin-top: .5rem; }
  li.upload { display: grid; grid-template-columns: 96px 1fr; gap: 1rem; align-items: center; border-bottom: 1px solid var(--line); padding: .75rem 0; }
  .thumb { width: 96px; height: 96px; object-fit: cover; border-radius: 6px; background: #e3e3e3; }
  .info { display: grid; gap: .2rem; }
  .name { font-weight: 600; overflow-wrap: anywhere; }
  progress { width: 100%; height: .9rem; accent-color: var(--accent); }
  .detail { color: #444746; font-size: .9rem; }
  [data-state=ready] .state { color: var(--good); font-weight: 600; }
  [data-state=rejected] .state, [data-state=failed] .state { color: var(--bad); font-weight: 600; }
  /* The bytes arrived, but the file was refused: the row must not look like a success. */
  [data-state=rejected] progress, [data-state=failed] progress { accent-color: var(--bad); }
  li.upload[data-state=rejected], li.upload[data-state=failed] { border-left: 4px solid var(--bad); padding-left: .5rem; }
  #status { min-height: 1.5em; margin-top: 1rem; font-weight: 600; }
</style>
</head>
<body data-multipart-threshold="${multipartThresholdBytes}">
<main>
<h1>Upload photos and videos</h1>
<p>Photos and videos go straight from this browser to storage; the service then checks each one,
strips its metadata (location, camera, names, comments: the kept original holds only its pixels,
colour profile and orientation, and the record only the time it was taken) and makes the
thumbnails. Large files go in parts: if the page is closed or reloaded, choose the same file again
and its upload goes on where it stopped.</p>

<label for="token">Access token</label>
<p class="hint" id="token-hint">A local teacher token is filled in (school-1, classroom c-1). Paste another to act as someone else.</p>
<textarea id="token" rows="3" spellcheck="false" autocomplete="off" aria-describedby="token-hint">${escapeHtml(token)}</textarea>

<label for="purpose">What are they for?</label>
<select id="purpose">
  <option value="general">General</option>
  <option value="profile">Profile photo</option>
  <option value="attendance">Attendance (classroom photo)</option>
  <option value="training">Training the recognition model</option>
</select>

<div id="classroom-field" hidden>
  <label for="classroom">Classroom</label>
  <input type="text" id="classroom" value="c-1" autocomplete="off">
</div>

<label for="subject">Who is in them? (optional)</label>
<p class="hint" id="subject-hint">A pupil’s id files the upload about that pupil (a profile photo, say); left empty, it is about nobody. Teachers may name only themselves; an administrator’s token may name any pupil of the school.</p>
<input type="text" id="subject" autocomplete="off" spellcheck="false" aria-describedby="subject-hint">

<div class="drop" id="drop">
  <label for="files">Choose photos or videos, or drop them here</label>
  <p class="hint" id="files-hint">Photos: JPEG, PNG, WebP, AVIF, GIF or HEIC (iPhone). Videos: MP4, MOV or WebM (general and attendance). Several at once.</p>
  <input type="file" id="files" accept="image/*,image/heic,image/heif,.heic,.heif,video/mp4,video/quicktime,video/webm,.mp4,.m4v,.mov,.webm" multiple aria-describedby="files-hint">
</div>

<div id="unfinished" hidden>
  <h2>Unfinished uploads</h2>
  <p class="hint">These stopped before all their parts were sent (the page was closed or reloaded). Choose the same file again to go on from where it stopped.</p>
  <ul id="unfinished-list"></ul>
</div>

<p id="status" role="status" aria-live="polite"></p>
<h2>Uploads</h2>
<ol id="uploads" aria-label="Uploads"></ol>
</main>
<script type="module">${pageScript()}</script>
</body>
</html>`;
}
