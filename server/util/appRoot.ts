// Where the application's own files are (package.json, web/dist/): the nearest directory holding
// a package.json above the running module. The same code runs from two places: the sources
// (server/util/appRoot.ts, through tsx, in development and tests) and the bundle
// (dist/rpi-tb-gateway.app.mjs, on the Pi), so paths written relative to one file
// (new URL("../../web/dist/", import.meta.url)) are right in one layout and wrong in the other.
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

/**
 * The nearest directory at or above `from` (a file or directory path, or a file: URL) that holds
 * a package.json. Throws when there is none up to the file system root: the app was copied
 * somewhere without its package.json, and none of its files can be found.
 */
export function findAppRoot(from: string | URL): string {
  const start = from instanceof URL || from.startsWith("file:") ? fileURLToPath(from) : from;
  let dir = start;
  for (;;) {
    if (existsSync(join(dir, "package.json"))) return dir;
    const parent = dirname(dir);
    if (parent === dir)
      throw new Error(`no package.json in any directory above ${start}: run the app from its installed directory`);
    dir = parent;
  }
}

let cached: string | undefined;

/** The application's directory (holding package.json), found once from this module's location. */
export function appRoot(): string {
  cached ??= findAppRoot(import.meta.url);
  return cached;
}

/** A path inside the application's directory: appPath("web", "dist"). */
export function appPath(...parts: string[]): string {
  return join(appRoot(), ...parts);
}
