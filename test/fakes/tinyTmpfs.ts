// Runs a child script (through tsx) with `dir` as a tiny tmpfs mounted in a private mount
// namespace, so that a real ENOSPC can be met (needs root or unprivileged user namespaces).
// Used by the outbox's and the dashboard upload's disk-full tests.
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));

export type TmpfsRun = { skipped: string } | { skipped?: undefined; code: number | null; out: string; err: string };

/** `dir` is passed to the child as its first argument; only the sandbox's refusals (before node starts) are skipped. */
export async function runOnTinyTmpfs(childScript: string, dir: string, sizeMb = 1): Promise<TmpfsRun> {
  const args = [
    "-m",
    "sh",
    "-c",
    `mount -t tmpfs -o size=${sizeMb}m tmpfs "$0" && exec "$1" --import tsx "$2" "$0"`,
    dir,
    process.execPath,
    childScript,
  ];
  const child = spawn("unshare", args, { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  let err = "";
  child.stdout.on("data", (c: Buffer) => (out += c.toString("utf8")));
  child.stderr.on("data", (c: Buffer) => (err += c.toString("utf8")));
  const code = await new Promise<number | null>((resolve) => {
    child.on("error", (e) => {
      err += `spawn unshare: ${e.message}`;
      resolve(-1);
    });
    child.on("exit", (c) => resolve(c));
  });
  if (code !== 0 && out === "" && /^(unshare|mount)|spawn unshare|not permitted|permission denied/im.test(err)) {
    return { skipped: `cannot mount a tmpfs here: ${err.trim().split("\n")[0] ?? code}` };
  }
  return { code, out, err };
}
