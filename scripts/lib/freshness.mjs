// Skip-when-up-to-date checks shared by the build scripts (build-web.mjs, build-server.mjs):
// `npm start` builds both every time, and rebuilding what has not changed would only slow it
// down. Decided by modification times, like make.
import { existsSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";

/**
 * Newest modification time (ms) over files and directories (walked recursively). A missing path
 * counts as infinitely new, so that an input deleted since the last build forces a rebuild.
 */
export function newestMtime(paths) {
  let newest = 0;
  for (const p of paths) {
    if (!existsSync(p)) return Infinity;
    const s = statSync(p);
    newest = Math.max(newest, s.isDirectory() ? newestMtime(readdirSync(p).map((name) => join(p, name))) : s.mtimeMs);
  }
  return newest;
}

/** True when every output exists and none is older than the newest input. */
export function isUpToDate(outputs, inputs) {
  if (!outputs.every((p) => existsSync(p))) return false;
  const oldestOutput = Math.min(...outputs.map((p) => statSync(p).mtimeMs));
  return newestMtime(inputs) <= oldestOutput;
}
