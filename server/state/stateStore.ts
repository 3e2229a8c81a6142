// Small durable state (last shared attributes, output states, credentials, password hash, device registry)
// on lowdb. The in-memory object is authoritative; lowdb rewrites the whole file on every write (anchors C5),
// so updates are coalesced into one write per window, and the file is written atomically with a .bak copy.
import fs from "node:fs/promises";
import { Low } from "lowdb";
import { silentLogger, type Logger } from "../util/logger.ts";
import { AtomicJsonFile } from "./atomicJsonFile.ts";

export interface StateStoreOptions {
  log?: Logger;
  /** Coalescing window: the first update after a write starts it, later ones join it. */
  writeDelayMs?: number;
  /** File mode, e.g. 0o600 for credentials; applied to the file, its .bak and at open. */
  mode?: number;
}

export type Recovery = null | "backup" | "defaults";

type ReadResult<T> = { kind: "ok"; value: T } | { kind: "missing" } | { kind: "bad"; error: string };

export class StateStore<T extends object> {
  readonly file: string;
  readonly recovered: Recovery;
  readonly #low: Low<T>;
  readonly #log: Logger;
  readonly #delayMs: number;
  #timer: NodeJS.Timeout | null = null;
  #dirty = false;
  #closed = false;
  #writing: Promise<void> = Promise.resolve();

  private constructor(file: string, low: Low<T>, recovered: Recovery, log: Logger, delayMs: number) {
    this.file = file;
    this.#low = low;
    this.recovered = recovered;
    this.#log = log;
    this.#delayMs = delayMs;
  }

  static async open<T extends object>(file: string, defaults: T, opts: StateStoreOptions = {}): Promise<StateStore<T>> {
    if (typeof file !== "string" || file === "")
      throw new TypeError("StateStore.open: file must be a non-empty string");
    const delayMs = opts.writeDelayMs ?? 2000;
    if (!(Number.isFinite(delayMs) && delayMs >= 0))
      throw new TypeError("StateStore.open: writeDelayMs must be a non-negative number");
    const log = opts.log ?? silentLogger();
    // Built explicitly, not with JSONFilePreset, which silently goes in-memory under NODE_ENV=test (anchors C5).
    const adapter = new AtomicJsonFile<T>(file, opts.mode === undefined ? {} : { mode: opts.mode });
    const low = new Low<T>(adapter, structuredClone(defaults));
    const bak = `${file}.bak`;
    let recovered: Recovery = null;

    const main = await readSafely(() => adapter.read());
    if (main.kind === "ok") {
      // Shallow merge: top-level keys added by a newer version get their defaults.
      low.data = { ...structuredClone(defaults), ...main.value };
    } else {
      const backup = await readSafely(() => new AtomicJsonFile<T>(bak).read());
      if (main.kind === "bad") {
        const aside = await moveAside(file);
        log.error(`state file ${file} is unreadable (${main.error}); kept it as ${aside}`);
      }
      if (backup.kind === "ok") {
        low.data = { ...structuredClone(defaults), ...backup.value };
        recovered = "backup";
        log.error(`state restored from the last known good copy ${bak}; changes since it was written are lost`);
      } else if (main.kind === "bad" || backup.kind === "bad") {
        if (backup.kind === "bad")
          log.error(`state backup ${bak} is unreadable too (${backup.error}); kept it as ${await moveAside(bak)}`);
        recovered = "defaults";
        log.error(`state reset to defaults: neither ${file} nor ${bak} could be read`);
      }
      // Both missing: first start, defaults as they are.
    }
    if (opts.mode !== undefined) await chmodIfExists([file, bak], opts.mode);
    return new StateStore(file, low, recovered, log, delayMs);
  }

  get data(): T {
    return this.#low.data;
  }

  update(mutate: (d: T) => void): void {
    if (this.#closed) throw new Error("StateStore is closed");
    try {
      mutate(this.#low.data);
    } finally {
      this.#dirty = true;
      this.#schedule();
    }
  }

  /** Writes now if anything changed; rejects with the I/O error (the data stays dirty and is retried). */
  flush(): Promise<void> {
    if (this.#timer) {
      clearTimeout(this.#timer);
      this.#timer = null;
    }
    // Writes never overlap: each waits for the previous one, whatever its outcome.
    const run = this.#writing.catch(() => undefined).then(() => this.#writeIfDirty());
    this.#writing = run;
    return run;
  }

  async close(): Promise<void> {
    if (this.#closed) return this.#writing.catch(() => undefined);
    this.#closed = true;
    try {
      await this.flush();
    } finally {
      if (this.#timer) clearTimeout(this.#timer);
      this.#timer = null;
    }
  }

  #schedule(): void {
    if (this.#timer || this.#closed) return;
    this.#timer = setTimeout(() => {
      this.#timer = null;
      this.flush().catch(() => undefined); // logged in #writeIfDirty, retried by #schedule
    }, this.#delayMs);
  }

  async #writeIfDirty(): Promise<void> {
    if (!this.#dirty) return;
    this.#dirty = false;
    try {
      await this.#low.write();
    } catch (err) {
      this.#dirty = true;
      this.#log.error(
        `state write to ${this.file} failed (${(err as Error).message}); keeping it in memory and retrying`,
      );
      this.#schedule();
      throw err;
    }
  }
}

async function readSafely<T>(read: () => Promise<T | null>): Promise<ReadResult<T>> {
  try {
    const v = await read();
    return v === null ? { kind: "missing" } : { kind: "ok", value: v };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return { kind: "missing" };
    return { kind: "bad", error: (err as Error).message };
  }
}

async function moveAside(file: string): Promise<string> {
  const aside = `${file}.corrupt-${Date.now()}`;
  try {
    await fs.rename(file, aside);
    return aside;
  } catch (err) {
    return `${file} (could not move it: ${(err as Error).message})`;
  }
}

async function chmodIfExists(files: string[], mode: number): Promise<void> {
  for (const f of files) {
    try {
      await fs.chmod(f, mode);
    } catch {
      /* missing is fine; the next write sets the mode */
    }
  }
}
