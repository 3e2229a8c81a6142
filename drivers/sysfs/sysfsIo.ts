// The file operations the kernel-backed drivers (1-Wire, IIO, PWM) need, behind a small interface:
// the real adapter is node:fs on /sys; the twins (twinIo.ts) serve a tree in a temp dir with the
// kernel's behaviour on top (attributes that fail with EIO, directories that appear on export).
// Every path the drivers use is under a root they are given, so tests never touch /sys.
import { readdir, readFile, readlink, writeFile } from "node:fs/promises";

export interface SysfsIo {
  /** Reads a whole attribute; rejects with the errno in `code` (ENOENT, EIO, ETIMEDOUT...). */
  readFile(path: string): Promise<string>;
  /** Writes an attribute in one write(2), as sysfs expects. */
  writeFile(path: string, data: string): Promise<void>;
  readdir(path: string): Promise<string[]>;
  readlink(path: string): Promise<string>;
}

export const nodeSysfsIo: SysfsIo = {
  readFile: (path) => readFile(path, "utf8"),
  writeFile: (path, data) => writeFile(path, data),
  readdir: (path) => readdir(path),
  readlink: (path) => readlink(path),
};

/** An error shaped like the ones node:fs rejects with for a failed sysfs read or write. */
export function errnoError(code: string, message: string): NodeJS.ErrnoException {
  const err: NodeJS.ErrnoException = new Error(`${code}: ${message}`);
  err.code = code;
  return err;
}

export function errnoOf(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === "string" ? code : undefined;
}
