import { createHash, randomUUID } from 'node:crypto';
import { chmod, lstat, mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';

/**
 * The user's own folder for the upload CLI's state: `$XDG_STATE_HOME/media-upload`, else
 * `~/.local/state/media-upload` (`%LOCALAPPDATA%\media-upload` on Windows). Never the shared
 * temporary folder, where anyone could plant or read a journal at a predictable name.
 */
export function userStateDir(env: Record<string, string | undefined> = process.env, home: string = homedir()): string {
  if (process.platform === 'win32' && env.LOCALAPPDATA) return join(env.LOCALAPPDATA, 'media-upload');
  const state = env.XDG_STATE_HOME?.startsWith('/') ? env.XDG_STATE_HOME : join(home, '.local', 'state');
  return join(state, 'media-upload');
}

/**
 * Which file's multipart upload is under way, so a run stopped half-way (Ctrl-C, a lost
 * connection) resumes it instead of sending the whole file again. A small JSON file per folder,
 * outside the folder itself; a file changed since (size or time) is a new file. The journal names
 * the files (children's photos) and the uploads: it is written readable by its owner only.
 */
export class ResumeJournal {
  private entries: Record<string, string> | undefined;
  private writing: Promise<void> = Promise.resolve();
  private folderChecked = false;

  /** `privateFolder`: the journal's folder is created (and kept) as the user's alone, 0700. */
  constructor(
    readonly path: string,
    private readonly options: { privateFolder?: boolean } = {},
  ) {}

  /** The journal of a folder's uploads, in the user's state folder (`userStateDir`). */
  static forFolder(dir: string, stateDir: string = userStateDir()): ResumeJournal {
    const id = createHash('sha256').update(resolve(dir)).digest('hex').slice(0, 16);
    return new ResumeJournal(join(stateDir, `resume-${id}.json`), { privateFolder: true });
  }

  static keyOf(file: { path: string; size: number; mtimeMs: number }): string {
    return `${resolve(file.path)}|${file.size}|${Math.round(file.mtimeMs)}`;
  }

  async get(key: string): Promise<string | undefined> {
    return (await this.load())[key];
  }

  async set(key: string, mediaId: string): Promise<void> {
    (await this.load())[key] = mediaId;
    await this.save();
  }

  async delete(key: string): Promise<void> {
    const entries = await this.load();
    if (!(key in entries)) return;
    delete entries[key];
    await this.save();
  }

  private async load(): Promise<Record<string, string>> {
    if (!this.entries) {
      await this.checkFolder();
      try {
        this.entries = JSON.parse(await readFile(this.path, 'utf8')) as Record<string, string>;
      } catch {
        this.entries = {};
      }
    }
    return this.entries;
  }

  /**
   * One write at a time, each replacing the file whole (a crash leaves the old or the new one). The
   * new file gets a name nobody could have guessed and is created, never opened if it exists, 0600.
   */
  private save(): Promise<void> {
    const snapshot = JSON.stringify(this.entries ?? {});
    this.writing = this.writing.then(async () => {
      await this.checkFolder();
      const fresh = `${this.path}.${randomUUID()}.tmp`;
      await writeFile(fresh, snapshot, { flag: 'wx', mode: 0o600 });
      await rename(fresh, this.path);
    });
    return this.writing;
  }

  /** The private folder exists, is a real folder (no symbolic link), is the user's, and only theirs. */
  private async checkFolder(): Promise<void> {
    if (!this.options.privateFolder || this.folderChecked) return;
    const folder = dirname(this.path);
    await mkdir(folder, { recursive: true, mode: 0o700 });
    const info = await lstat(folder);
    if (!info.isDirectory()) throw new Error(`${folder} is not a folder of its own (a link?); the resume journal will not use it`);
    const uid = process.getuid?.();
    if (uid !== undefined && info.uid !== uid) throw new Error(`${folder} belongs to another user; the resume journal will not use it`);
    if (info.mode & 0o077) await chmod(folder, 0o700);
    this.folderChecked = true;
  }
}
