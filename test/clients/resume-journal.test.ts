import { lstat, mkdir, mkdtemp, readdir, rm, stat, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ResumeJournal, userStateDir } from '@media/client/node';

/** The CLI's resume journal names children's photos: it lives where only its user can read or plant it. */
describe('the resume journal', () => {
  let scratch: string;
  beforeAll(async () => {
    scratch = await mkdtemp(join(tmpdir(), 'journal-test-'));
  });
  afterAll(async () => {
    await rm(scratch, { recursive: true, force: true });
  });

  it("lives in the user's state folder, never in the shared temporary folder", () => {
    expect(userStateDir({ XDG_STATE_HOME: '/home/ada/.state' }, '/home/ada')).toBe('/home/ada/.state/media-upload');
    expect(userStateDir({}, '/home/ada')).toBe('/home/ada/.local/state/media-upload');
    // XDG paths must be absolute; a relative one is ignored rather than resolved against the working folder.
    expect(userStateDir({ XDG_STATE_HOME: 'state' }, '/home/ada')).toBe('/home/ada/.local/state/media-upload');
    const journal = ResumeJournal.forFolder('/photos/class-3b', userStateDir({}, '/home/ada'));
    expect(journal.path.startsWith('/home/ada/.local/state/media-upload/')).toBe(true);
    expect(journal.path.startsWith(tmpdir())).toBe(false);
  });

  it('creates its folder 0700 and writes the journal 0600, leaving no temporary file behind', async () => {
    const state = join(scratch, 'fresh', 'media-upload');
    const journal = ResumeJournal.forFolder('/photos/class-3b', state);
    await journal.set('/photos/class-3b/a.mov|10|1', 'm-1');
    expect((await stat(state)).mode & 0o777).toBe(0o700);
    expect((await stat(journal.path)).mode & 0o777).toBe(0o600);
    expect(await readdir(state)).toEqual([journal.path.slice(state.length + 1)]);
    expect(await ResumeJournal.forFolder('/photos/class-3b', state).get('/photos/class-3b/a.mov|10|1')).toBe('m-1');
  });

  it('takes back a folder others could read or write (0755 → 0700)', async () => {
    const state = join(scratch, 'loose');
    await mkdir(state, { mode: 0o755 });
    await ResumeJournal.forFolder('/photos', state).set('k', 'm-2');
    expect((await stat(state)).mode & 0o777).toBe(0o700);
  });

  it('refuses a state folder that is a symbolic link (someone could point it anywhere)', async () => {
    const target = join(scratch, 'elsewhere');
    await mkdir(target);
    const link = join(scratch, 'linked');
    await symlink(target, link);
    expect((await lstat(link)).isSymbolicLink()).toBe(true);
    await expect(ResumeJournal.forFolder('/photos', link).set('k', 'm-3')).rejects.toThrow(/not a folder of its own/);
    expect(await readdir(target), 'nothing written through the link').toEqual([]);
  });
});
