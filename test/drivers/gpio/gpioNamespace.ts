// Runs a child with a fake gpio class tree bound over /sys/class/gpio in a private mount
// namespace (unshare -m, root only), so the real onoff, which always uses /sys/class/gpio, drives
// plain files in a temp dir. Used by the onoff adapter tests and the GPIO contract over onoff.
import { spawn, spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { makeTempDir } from "./fakeSysfs.ts";

export const projectRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../..");

/** Where to bind: over /sys/class/gpio when it exists, else over /sys/class with a tree holding gpio/. */
const bindOverGpio = fs.existsSync("/sys/class/gpio");
const target = bindOverGpio ? "/sys/class/gpio" : "/sys/class";

/** Why the namespace cannot be made here, or undefined when it can. */
export function namespaceUnavailable(): string | undefined {
  if (process.getuid?.() !== 0) return "needs root for unshare -m and mount --bind";
  const probeDir = makeTempDir("probe");
  fs.mkdirSync(path.join(probeDir, "gpio"));
  const probe = spawnSync(
    "unshare",
    ["-m", "sh", "-c", 'mount --bind "$1" "$2"', "sh", bindOverGpio ? path.join(probeDir, "gpio") : probeDir, target],
    {
      encoding: "utf8",
      timeout: 10_000,
    },
  );
  fs.rmSync(probeDir, { recursive: true, force: true });
  if (probe.error) return `unshare not usable: ${probe.error.message}`;
  if (probe.status !== 0)
    return `cannot bind-mount in a private namespace: ${probe.stderr.trim() || `exit ${probe.status}`}`;
  return undefined;
}

/** `classDir/gpio` is the fake tree; runs `node ...nodeArgs` with it at /sys/class/gpio. */
export async function runInGpioNamespace(
  classDir: string,
  nodeArgs: string[],
  timeoutMs: number,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const source = bindOverGpio ? path.join(classDir, "gpio") : classDir;
  const script = 'mount --bind "$1" "$2" && shift 2 && exec "$@"';
  const child = spawn("unshare", ["-m", "sh", "-c", script, "sh", source, target, process.execPath, ...nodeArgs], {
    cwd: projectRoot,
    // Without the parent runner's NODE_TEST_CONTEXT, a `node --test` child reports for itself.
    env: { ...process.env, NODE_TEST_CONTEXT: undefined },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
  child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
  const code = await new Promise<number | null>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`child timed out after ${timeoutMs} ms; stderr: ${stderr}`));
    }, timeoutMs);
    child.on("error", reject);
    child.on("exit", (c) => {
      clearTimeout(timer);
      resolve(c);
    });
  });
  return { code, stdout, stderr };
}
