import { createHash } from 'node:crypto';
import { readFile, rename, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

/**
 * Which file's multipart upload is under way, so a run stopped half-way (Ctrl-C, a lost
 * connection) resumes it instead of sending the whole file again. A small JSON file per folder,
 * outside the folder itself; a file changed since (size or time) is a new file.
 */
export class ResumeJournal {
  private entries: Record<string, string> | undefined;
  private writing: Promise<void> = Promise.resolve();

  constructor(readonly path: string) {}

  /** The journal of a folder's uploads, in the system's temporary folder. */
  static forFolder(dir: string): ResumeJournal {
    const id = createHash('sha256').update(resolve(dir)).digest('hex').slice(0, 16);
    return new ResumeJournal(join(tmpdir(), `media-upload-resume-${id}.json`));
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
      try {
        this.entries = JSON.parse(await readFile(this.path, 'utf8')) as Record<string, string>;
      } catch {
        this.entries = {};
      }
    }
    return this.entries;
  }

  /** One write at a time, each replacing the file whole (a crash leaves the old or the new one). */
  private save(): Promise<void> {
    const snapshot = JSON.stringify(this.entries ?? {});
    this.writing = this.writing.then(async () => {
      await writeFile(`${this.path}.tmp`, snapshot);
      await rename(`${this.path}.tmp`, this.path);
    });
    return this.writing;
  }
}
