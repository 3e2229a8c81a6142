// The manifest inside a release package (built by scripts/package.mjs): which application,
// version, CPU architecture and Node ABI its native modules were built for. Read with tar
// (present on every Raspberry Pi OS image) without unpacking anything else.
import { spawn } from "node:child_process";
import { isObject, parseJson } from "../../util/json.ts";

export interface ReleaseManifest {
  name: string;
  version: string;
  arch: string;
  nodeAbi: string;
  nodeVersion?: string;
}

const MAX_MANIFEST_BYTES = 64 * 1024;

export function parseManifest(text: string): ReleaseManifest | string {
  const r = parseJson(text);
  if (!r.ok || !isObject(r.value)) return "manifest.json is not a JSON object";
  const { name, version, arch, nodeAbi, nodeVersion } = r.value;
  if (
    typeof name !== "string" ||
    typeof version !== "string" ||
    typeof arch !== "string" ||
    typeof nodeAbi !== "string"
  ) {
    return "manifest.json needs string name, version, arch and nodeAbi";
  }
  return { name, version, arch, nodeAbi, ...(typeof nodeVersion === "string" ? { nodeVersion } : {}) };
}

/** manifest.json of a .tar.gz package, or the reason it cannot be read. */
export function readManifest(file: string): Promise<ReleaseManifest | string> {
  return new Promise((resolve) => {
    const tar = spawn("tar", ["-xzOf", file, "./manifest.json"], { stdio: ["ignore", "pipe", "pipe"] });
    const out: Buffer[] = [];
    let size = 0;
    let err = "";
    tar.stdout.on("data", (b: Buffer) => {
      size += b.length;
      if (size > MAX_MANIFEST_BYTES) tar.kill();
      else out.push(b);
    });
    tar.stderr.on("data", (b: Buffer) => {
      if (err.length < 500) err += b.toString("utf8");
    });
    tar.on("error", (e) => resolve(`cannot run tar: ${e.message}`));
    tar.on("close", (code) => {
      if (size > MAX_MANIFEST_BYTES) return resolve("manifest.json is larger than 64 KB");
      if (code !== 0) return resolve(`not a release package (no manifest.json): ${err.trim().split("\n")[0] ?? ""}`);
      resolve(parseManifest(Buffer.concat(out).toString("utf8")));
    });
  });
}

/** Why this unit cannot run the package, or undefined when it can. */
export function manifestMismatch(
  m: ReleaseManifest,
  want: { name: string; version: string; arch: string; nodeAbi: string },
): string | undefined {
  if (m.name !== want.name) return `the package is ${m.name}, not ${want.name}`;
  if (m.version !== want.version)
    return `the package holds version ${m.version}, ThingsBoard announced ${want.version}`;
  if (m.arch !== want.arch) return `the package is built for ${m.arch}; this unit is ${want.arch}`;
  if (m.nodeAbi !== want.nodeAbi)
    return `the package's native modules are for Node ABI ${m.nodeAbi}; this unit runs ABI ${want.nodeAbi} (Node ${process.versions.node})`;
  return undefined;
}
