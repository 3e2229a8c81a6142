// A lowdb Adapter that survives power cuts: steno (lowdb's JSONFile) writes a temp file and renames it but never
// fsyncs (anchors C5; typicode/lowdb#549), so after a power loss the file can be empty or zero-filled. Here the
// temp file is fsynced before the rename and the directory after it, and the previous version is kept as
// `<file>.bak`, the last known good copy.
import fs from "node:fs/promises";
import path from "node:path";
import type { Adapter } from "lowdb";
import { isObject } from "../util/json.ts";

export class CorruptFileError extends Error {
  readonly code = "ECORRUPT";
}

export class AtomicJsonFile<T extends object> implements Adapter<T> {
  readonly file: string;
  readonly mode: number | undefined;
  /** Rename the current file to `<file>.bak` before replacing it. */
  readonly keepBackup: boolean;

  constructor(file: string, opts: { mode?: number; keepBackup?: boolean } = {}) {
    this.file = file;
    this.mode = opts.mode;
    this.keepBackup = opts.keepBackup ?? true;
  }

  /** null when the file does not exist; CorruptFileError when it is empty, not JSON, or not a JSON object. */
  async read(): Promise<T | null> {
    let text: string;
    try {
      text = await fs.readFile(this.file, "utf8");
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT") return null;
      throw err;
    }
    if (text.trim() === "") throw new CorruptFileError(`${this.file} is empty`);
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (err) {
      throw new CorruptFileError(`${this.file} is not valid JSON: ${(err as Error).message}`);
    }
    if (!isObject(value)) throw new CorruptFileError(`${this.file} does not hold a JSON object`);
    return value as T;
  }

  async write(data: T): Promise<void> {
    // Serialise before the first await: the snapshot is the data as it is now, not after later updates.
    const text = `${JSON.stringify(data, null, 2)}\n`;
    const tmp = `${this.file}.tmp`;
    const fh = await fs.open(tmp, "w", this.mode ?? 0o644);
    try {
      await fh.writeFile(text, "utf8");
      // open()'s mode is filtered by the umask and ignored for an existing temp file: set it explicitly.
      if (this.mode !== undefined) await fh.chmod(this.mode);
      await fh.sync();
    } finally {
      await fh.close();
    }
    if (this.keepBackup) {
      try {
        await fs.rename(this.file, `${this.file}.bak`);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
      }
    }
    await fs.rename(tmp, this.file);
    await syncDir(path.dirname(this.file));
  }
}

/** Makes the renames themselves durable (ext4 may otherwise lose a rename on power loss). */
export async function syncDir(dir: string): Promise<void> {
  const dh = await fs.open(dir, "r");
  try {
    await dh.sync();
  } finally {
    await dh.close();
  }
}
