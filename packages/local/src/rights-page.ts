const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/**
 * The page's script: plain fetch calls to the rights routes with the token of the box. Erasures
 * and exports run in the background (a worker started by the request), so their answers are polled.
 */
const SCRIPT = `
const $ = (id) => document.getElementById(id);
const say = (id, text) => { $(id).textContent = text; };
async function api(method, path, body) {
  const headers = { authorization: 'Bearer ' + $('token').value.trim() };
  if (body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const answer = await res.json().catch(() => ({}));
  if (!res.ok) throw new Error(answer.detail || answer.title || ('HTTP ' + res.status));
  return answer;
}
const subject = () => {
  const id = $('subject').value.trim();
  if (!id) throw new Error('Enter the person\\'s id first.');
  return encodeURIComponent(id);
};
// queued (no worker yet) → running (counts so far) → done; each state the page saw is listed.
async function follow(path, stepsId, render) {
  const seen = [];
  for (;;) {
    const state = await api('GET', path);
    if (seen.at(-1) !== state.status) seen.push(state.status);
    say(stepsId, seen.join(' → '));
    render(state);
    if (state.status === 'done') return state;
    await new Promise((r) => setTimeout(r, 300));
  }
}
const guard = (statusId, work) => async () => {
  try { await work(); } catch (error) { say(statusId, error.message); }
};
function showConsent(consent) {
  $('recognition').checked = consent.recognition;
  $('training').checked = consent.training;
  say('consent-status', consent.updatedAt ? 'Last changed ' + new Date(consent.updatedAt).toLocaleString() + ' by ' + consent.updatedBy + '.' : 'Never asked: no consent.');
  $('consent').hidden = false;
}
const loadConsent = async () => showConsent(await api('GET', '/v1/subjects/' + subject() + '/consent'));
$('show').addEventListener('click', guard('consent-status', loadConsent));
$('save-consent').addEventListener('click', guard('consent-status', async () => {
  const consent = await api('PUT', '/v1/subjects/' + subject() + '/consent', { recognition: $('recognition').checked, training: $('training').checked });
  showConsent(consent);
  say('consent-status', 'Saved: ' + (consent.recognition ? 'recognition allowed' : 'no recognition') + ', ' + (consent.training ? 'training allowed' : 'no training') + ' (by ' + consent.updatedBy + ').');
}));
$('export').addEventListener('click', guard('export-status', async () => {
  $('export-link').hidden = true;
  const started = await api('POST', '/v1/subjects/' + subject() + '/export');
  say('export-status', 'Export queued…');
  const done = await follow('/v1/exports/' + started.exportId, 'export-steps', (s) => {
    if (s.status === 'queued') say('export-status', 'Export queued: waiting for the worker…');
    if (s.status === 'running') say('export-status', 'Export running: gathering the photos…');
  });
  say('export-status', 'Export ready: ' + done.items + ' photo(s), ' + done.bytes + ' bytes. The link works until ' + new Date(done.expiresAt).toLocaleTimeString() + '.');
  $('export-link').href = done.url;
  $('export-link').hidden = false;
}));
$('erase').addEventListener('click', guard('erase-status', async () => {
  if (!$('confirm-erase').checked) { say('erase-status', 'Tick the box to confirm the erasure first.'); return; }
  const started = await api('POST', '/v1/subjects/' + subject() + '/erasure');
  say('erase-status', 'Erasure queued…');
  const done = await follow('/v1/erasures/' + started.erasureId, 'erase-steps', (s) => {
    if (s.status === 'queued') say('erase-status', 'Erasure queued: waiting for the worker…');
    if (s.status === 'running') say('erase-status', 'Erasing: ' + s.deleted + ' of ' + s.total + ' found so far…');
  });
  say('erase-status', 'Erased: ' + done.deleted + ' photo(s) deleted, ' + done.heldBack + ' kept under legal hold; consent cleared.');
  // What the page shows of the person changes with the erasure: the consent is gone.
  if (!$('consent').hidden) await loadConsent().then(() => say('consent-status', 'Consent cleared by the erasure.'));
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
  .steps { color: #444746; font-size: .9rem; }
  fieldset { border: 1px solid #c4c7c5; border-radius: 6px; margin-top: .75rem; }
  fieldset label { font-weight: 400; margin-top: .4rem; }
  :focus-visible { outline: 3px solid #0b57d0; outline-offset: 2px; }
  #erase { color: #a50e0e; }
</style>
</head>
<body>
<main>
<h1>A person's data</h1>
<p>For the school's administrators: what a person consented to (shown and recorded here),
everything the service holds about them as one file, and its erasure (photos under legal hold are
kept and counted).</p>
<label for="token">Access token (an administrator of the school)</label>
<textarea id="token" rows="3" spellcheck="false" autocomplete="off">${escapeHtml(token)}</textarea>
<label for="subject">Person (their id)</label>
<input type="text" id="subject" autocomplete="off">

<section aria-labelledby="consent-title">
<h2 id="consent-title">Consent</h2>
<button id="show" type="button">Show consent</button>
<fieldset id="consent" hidden>
  <legend>What the person (or their parent) consented to</legend>
  <label><input type="checkbox" id="recognition"> Face recognition (matching against their profile photos)</label>
  <label><input type="checkbox" id="training"> Training the recognition model with photos naming them</label>
  <button id="save-consent" type="button">Save consent</button>
</fieldset>
<p id="consent-status" class="status" role="status" aria-live="polite"></p>
</section>

<section aria-labelledby="export-title">
<h2 id="export-title">Export (right of access)</h2>
<button id="export" type="button">Export everything about this person</button>
<p id="export-status" class="status" role="status" aria-live="polite"></p>
<p id="export-steps" class="steps"></p>
<p><a id="export-link" hidden download>Download the export (ZIP)</a></p>
</section>

<section aria-labelledby="erase-title">
<h2 id="erase-title">Erasure</h2>
<label><input type="checkbox" id="confirm-erase"> I understand that every photo about this person will be deleted for good</label>
<button id="erase" type="button">Erase everything about this person</button>
<p id="erase-status" class="status" role="status" aria-live="polite"></p>
<p id="erase-steps" class="steps"></p>
</section>
</main>
<script type="module">${SCRIPT}</script>
</body>
</html>`;
}
