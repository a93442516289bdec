const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/**
 * The page's script: plain fetch calls to the rights routes with the token of the box. Erasures
 * and exports run in the background (the sweeper advances them), so their answers are polled.
 */
const SCRIPT = `
const $ = (id) => document.getElementById(id);
const say = (id, text) => { $(id).textContent = text; };
async function api(method, path) {
  const res = await fetch(path, { method, headers: { authorization: 'Bearer ' + $('token').value.trim() } });
  const body = await res.json().catch(() => ({}));
  if (!res.ok) throw new Error(body.detail || body.title || ('HTTP ' + res.status));
  return body;
}
const subject = () => {
  const id = $('subject').value.trim();
  if (!id) throw new Error('Enter the person\\'s id first.');
  return encodeURIComponent(id);
};
async function follow(path, render) {
  for (;;) {
    const state = await api('GET', path);
    render(state);
    if (state.status === 'done') return state;
    await new Promise((r) => setTimeout(r, 500));
  }
}
const guard = (statusId, work) => async () => {
  try { await work(); } catch (error) { say(statusId, error.message); }
};
$('show').addEventListener('click', guard('consent-status', async () => {
  const consent = await api('GET', '/v1/subjects/' + subject() + '/consent');
  say('recognition', consent.recognition ? 'consented' : 'not consented');
  say('training', consent.training ? 'consented' : 'not consented');
  say('consent-status', consent.updatedAt ? 'Last changed ' + new Date(consent.updatedAt).toLocaleString() + ' by ' + consent.updatedBy + '.' : 'Never asked: no consent.');
  $('consent').hidden = false;
}));
$('export').addEventListener('click', guard('export-status', async () => {
  $('export-link').hidden = true;
  const started = await api('POST', '/v1/subjects/' + subject() + '/export');
  say('export-status', 'Export started; gathering the photos…');
  const done = await follow('/v1/exports/' + started.exportId, (s) => s.status === 'running' && say('export-status', 'Export running…'));
  say('export-status', 'Export ready: ' + done.items + ' photo(s), ' + done.bytes + ' bytes. The link works until ' + new Date(done.expiresAt).toLocaleTimeString() + '.');
  $('export-link').href = done.url;
  $('export-link').hidden = false;
}));
$('erase').addEventListener('click', guard('erase-status', async () => {
  if (!$('confirm-erase').checked) { say('erase-status', 'Tick the box to confirm the erasure first.'); return; }
  const started = await api('POST', '/v1/subjects/' + subject() + '/erasure');
  say('erase-status', 'Erasure started…');
  const done = await follow('/v1/erasures/' + started.erasureId, (s) => s.status === 'running' && say('erase-status', 'Erasing: ' + s.deleted + ' of ' + s.total + ' found so far…'));
  say('erase-status', 'Erased: ' + done.deleted + ' photo(s) deleted, ' + done.heldBack + ' kept under legal hold; consent cleared.');
}));
`;

/**
 * The page at `/rights`: an administrator looks up a person's consent, exports everything about
 * them (the right of access) or erases it (the right to erasure).
 */
export function rightsPage({ token }: { token: string }): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>A person's data — media service</title>
<link rel="icon" href="/favicon.svg" type="image/svg+xml">
<style>
  body { font: 16px/1.5 system-ui, sans-serif; max-width: 44rem; margin: 2rem auto; padding: 0 1rem; color: #1f1f1f; }
  label { display: block; font-weight: 600; margin-top: 1rem; }
  textarea, input[type=text] { width: 100%; font: inherit; padding: .45rem; box-sizing: border-box; border: 1px solid #747775; border-radius: 6px; }
  textarea { font-family: ui-monospace, monospace; font-size: .8rem; }
  button { font: inherit; padding: .4rem .9rem; margin-top: .75rem; }
  section { border-top: 1px solid #c4c7c5; margin-top: 1.5rem; }
  .status { min-height: 1.5em; font-weight: 600; }
  :focus-visible { outline: 3px solid #0b57d0; outline-offset: 2px; }
  #erase { color: #a50e0e; }
</style>
</head>
<body>
<main>
<h1>A person's data</h1>
<p>For the school's administrators: what a person consented to, everything the service holds about
them as one file, and its erasure (photos under legal hold are kept and counted).</p>
<label for="token">Access token (an administrator of the school)</label>
<textarea id="token" rows="3" spellcheck="false" autocomplete="off">${escapeHtml(token)}</textarea>
<label for="subject">Person (their id)</label>
<input type="text" id="subject" autocomplete="off">

<section aria-labelledby="consent-title">
<h2 id="consent-title">Consent</h2>
<button id="show" type="button">Show consent</button>
<dl id="consent" hidden>
  <dt>Face recognition</dt><dd id="recognition"></dd>
  <dt>Training the recognition model</dt><dd id="training"></dd>
</dl>
<p id="consent-status" class="status" role="status" aria-live="polite"></p>
</section>

<section aria-labelledby="export-title">
<h2 id="export-title">Export (right of access)</h2>
<button id="export" type="button">Export everything about this person</button>
<p id="export-status" class="status" role="status" aria-live="polite"></p>
<p><a id="export-link" hidden download>Download the export (ZIP)</a></p>
</section>

<section aria-labelledby="erase-title">
<h2 id="erase-title">Erasure</h2>
<label><input type="checkbox" id="confirm-erase"> I understand that every photo about this person will be deleted for good</label>
<button id="erase" type="button">Erase everything about this person</button>
<p id="erase-status" class="status" role="status" aria-live="polite"></p>
</section>
</main>
<script type="module">${SCRIPT}</script>
</body>
</html>`;
}
