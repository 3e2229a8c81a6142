// The sysfs twins' file access: a real directory tree (in a temp dir) read and written through
// node:fs, plus what a plain file cannot do but a kernel attribute does: fail a number of reads
// with an errno (EIO, ETIMEDOUT, ENODEV), answer with content computed at read time, and react to
// writes (export creating pwmN, a value the driver rejects with EINVAL). The twins (w1, IIO, PWM)
// register these per path; the drivers see only SysfsIo.
import { mkdir, rm, writeFile as fsWriteFile } from "node:fs/promises";
import { dirname } from "node:path";
import { errnoError, nodeSysfsIo, type SysfsIo } from "./sysfsIo.ts";

type ReadHook = () => string | Promise<string>;
type WriteHook = (data: string) => void | Promise<void>;

export class TwinSysfsIo implements SysfsIo {
  #failures = new Map<string, string[]>();
  #readHooks = new Map<string, ReadHook>();
  #writeHooks = new Map<string, WriteHook>();
  readonly stats = { reads: 0, writes: 0, injectedFaults: 0 };

  /** The next `times` reads of `path` fail with `code`, as the kernel attribute's read() would. */
  failReads(path: string, code: string, times = 1): void {
    const queue = this.#failures.get(path) ?? [];
    for (let i = 0; i < times; i++) queue.push(code);
    this.#failures.set(path, queue);
  }

  clearFaults(path?: string): void {
    if (path === undefined) this.#failures.clear();
    else this.#failures.delete(path);
  }

  /** Content computed on each read (a kernel attribute's show()); the file must still exist. */
  onRead(path: string, hook: ReadHook): void {
    this.#readHooks.set(path, hook);
  }

  /** A write to `path` runs `hook` (store()); a hook that throws is the write's errno. */
  onWrite(path: string, hook: WriteHook): void {
    this.#writeHooks.set(path, hook);
  }

  /** Forgets the hooks of every path under `prefix` (a device that went away). */
  forget(prefix: string): void {
    for (const map of [this.#readHooks, this.#writeHooks, this.#failures]) {
      for (const key of map.keys()) if (key === prefix || key.startsWith(`${prefix}/`)) map.delete(key);
    }
  }

  async readFile(path: string): Promise<string> {
    this.stats.reads++;
    const text = await nodeSysfsIo.readFile(path); // ENOENT for a vanished attribute, as on /sys
    const queue = this.#failures.get(path);
    const code = queue?.shift();
    if (queue && queue.length === 0) this.#failures.delete(path);
    if (code) {
      this.stats.injectedFaults++;
      throw errnoError(code, `read ${path}`);
    }
    const hook = this.#readHooks.get(path);
    return hook ? hook() : text;
  }

  async writeFile(path: string, data: string): Promise<void> {
    this.stats.writes++;
    const hook = this.#writeHooks.get(path);
    // sysfs has no O_CREAT: writing an attribute that is not there is ENOENT (or EACCES).
    await nodeSysfsIo.readFile(path);
    if (hook) await hook(data);
    else await fsWriteFile(path, data);
  }

  readdir(path: string): Promise<string[]> {
    return nodeSysfsIo.readdir(path);
  }

  readlink(path: string): Promise<string> {
    return nodeSysfsIo.readlink(path);
  }
}

/** Writes a file, creating its directory: how the twins lay out their trees. */
export async function putFile(path: string, content: string): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  await fsWriteFile(path, content);
}

export async function removeTree(path: string): Promise<void> {
  await rm(path, { recursive: true, force: true });
}
