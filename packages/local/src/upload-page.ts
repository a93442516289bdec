const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** A small page for trying the service in a browser: upload straight to S3, watch it get ready. */
export function uploadPage({ token }: { token: string }): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Media service — upload</title>
<style>
  body { font: 16px/1.5 system-ui, sans-serif; max-width: 52rem; margin: 2rem auto; padding: 0 1rem; color: #1b1b1b; }
  label { display: block; font-weight: 600; margin-top: 1rem; }
  textarea, select, input[type=text] { width: 100%; font: inherit; padding: .4rem; box-sizing: border-box; }
  #drop { margin-top: 1rem; border: 2px dashed #777; border-radius: 8px; padding: 2rem; text-align: center; }
  #drop:focus-within, #drop.over { border-color: #0050b3; background: #eef5ff; }
  ul { list-style: none; padding: 0; }
  li { display: grid; grid-template-columns: 96px 1fr; gap: 1rem; align-items: center; border-bottom: 1px solid #ddd; padding: .75rem 0; }
  li img { width: 96px; height: 96px; object-fit: cover; border-radius: 4px; background: #eee; }
  progress { width: 100%; }
  .rejected { color: #a8071a; }
  .ready { color: #237804; }
</style>
</head>
<body>
<h1>Upload photos</h1>
<p>Files go straight from this browser to storage; the service checks and processes them.</p>
<label for="token">Access token</label>
<textarea id="token" rows="3" spellcheck="false">${escapeHtml(token)}</textarea>
<label for="purpose">Purpose</label>
<select id="purpose">
  <option value="profile">Profile photo</option>
  <option value="general">General</option>
  <option value="attendance">Attendance (classroom photo)</option>
  <option value="training">Training</option>
</select>
<label for="classroom">Classroom (attendance only)</label>
<input type="text" id="classroom" value="c-1">
<div id="drop">
  <label for="files">Choose photos or drop them here</label>
  <input type="file" id="files" accept="image/*" multiple>
</div>
<p id="status" role="status" aria-live="polite"></p>
<ul id="list" aria-label="Uploads"></ul>
<script type="module">
const $ = (id) => document.getElementById(id);
const api = (path, init = {}) => fetch(path, { ...init, headers: { authorization: 'Bearer ' + $('token').value.trim(), 'content-type': 'application/json', ...(init.headers || {}) } });
const say = (text) => { $('status').textContent = text; };

function postToS3(upload, file, onProgress) {
  return new Promise((resolve, reject) => {
    const form = new FormData();
    for (const [k, v] of Object.entries(upload.fields)) form.append(k, v);
    form.append('file', file);
    const xhr = new XMLHttpRequest();
    xhr.open('POST', upload.url);
    xhr.upload.onprogress = (e) => e.lengthComputable && onProgress(e.loaded / e.total);
    xhr.onload = () => (xhr.status >= 200 && xhr.status < 300 ? resolve() : reject(new Error('storage answered ' + xhr.status)));
    xhr.onerror = () => reject(new Error('network error'));
    xhr.send(form);
  });
}

async function uploadOne(file) {
  const li = document.createElement('li');
  li.innerHTML = '<img alt=""><div><strong></strong><div class="state">requesting…</div><progress max="1" value="0"></progress></div>';
  li.querySelector('strong').textContent = file.name;
  $('list').prepend(li);
  const state = (text, cls) => { const s = li.querySelector('.state'); s.textContent = text; s.className = 'state ' + (cls || ''); };
  try {
    const purpose = $('purpose').value;
    const body = { purpose, contentType: file.type || 'application/octet-stream', size: file.size, filename: file.name };
    if (purpose === 'attendance') body.classroomId = $('classroom').value.trim();
    const res = await api('/v1/uploads', { method: 'POST', body: JSON.stringify(body) });
    const answer = await res.json();
    if (!res.ok) throw new Error(answer.detail || answer.title);
    state('uploading');
    await postToS3(answer.upload, file, (p) => { li.querySelector('progress').value = p; });
    li.querySelector('progress').value = 1;
    state('processing');
    for (let i = 0; i < 60; i++) {
      await new Promise((r) => setTimeout(r, Math.min(250 * 2 ** i, 2000)));
      const media = await (await api('/v1/media/' + answer.mediaId)).json();
      if (media.status === 'ready') {
        const link = await (await api('/v1/media/' + answer.mediaId + '/download?variant=thumb')).json();
        li.querySelector('img').src = link.url;
        li.querySelector('img').alt = 'Thumbnail of ' + file.name;
        state('ready — ' + media.width + '×' + media.height, 'ready');
        say(file.name + ' is ready');
        return;
      }
      if (media.status === 'rejected') {
        state('rejected: ' + media.rejection.detail, 'rejected');
        say(file.name + ' was rejected');
        return;
      }
    }
    state('still processing; check back later');
  } catch (error) {
    state('failed: ' + error.message, 'rejected');
    say(file.name + ' failed: ' + error.message);
  }
}

const handle = (files) => { for (const f of files) uploadOne(f); };
$('files').addEventListener('change', (e) => handle(e.target.files));
const drop = $('drop');
drop.addEventListener('dragover', (e) => { e.preventDefault(); drop.classList.add('over'); });
drop.addEventListener('dragleave', () => drop.classList.remove('over'));
drop.addEventListener('drop', (e) => { e.preventDefault(); drop.classList.remove('over'); handle(e.dataTransfer.files); });
</script>
</body>
</html>`;
}
