// What happens to a package once its bytes are in ota/package.tar.gz, whoever brought them
// (ThingsBoard's chunk protocol or an upload on the dashboard): the checksum, the manifest
// against this unit, then ota/apply.json for the root guard (scripts/ota-guard.sh), which
// unpacks and switches at the next start. One path, so a local update is checked exactly as a
// fleet update is. The disk-space rule lives here too, for the same reason.
import { statfs } from "node:fs/promises";
import type { UpdateSource } from "../../events.ts";
import type { Logger } from "../../util/logger.ts";
import { fileChecksum, isOtaAlgorithm } from "./checksum.ts";
import { OtaDownloadError } from "./chunkDownload.ts";
import { manifestMismatch, readManifest } from "./manifest.ts";
import type { OtaFiles, OtaTarget } from "./otaFiles.ts";

export type OtaState = "DOWNLOADING" | "DOWNLOADED" | "VERIFIED" | "UPDATING" | "UPDATED" | "FAILED";

/** Room needed in the data dir: the package plus its unpacked copy (about 4x the gzip) and 20 MB. */
const SPACE_FACTOR = 5;
const SPACE_MARGIN = 20 * 1024 * 1024;

/** The version shown for an upload until its manifest has been read. */
export const UPLOAD_VERSION = "(upload)";

export type FreeBytes = (dir: string) => Promise<number>;

export async function freeBytesOf(dir: string): Promise<number> {
  const s = await statfs(dir);
  return s.bavail * s.bsize;
}

/** Why a package of `size` bytes does not fit in the data dir, or undefined when it does. */
export async function lackOfSpace(
  dir: string,
  size: number,
  freeBytes: FreeBytes = freeBytesOf,
): Promise<string | undefined> {
  const free = await freeBytes(dir);
  const need = size * SPACE_FACTOR + SPACE_MARGIN;
  if (free >= need) return undefined;
  return `not enough disk space: ${mb(free)} MB free in ${dir}, ${mb(need)} MB needed (5x the package + 20 MB)`;
}

export interface ApplyDeps {
  files: OtaFiles;
  log: Logger;
  app: { name: string; version: string };
  arch: string;
  nodeAbi: string;
  /** Reports each sw_state as it is reached (telemetry to ThingsBoard and the dashboard). */
  state(s: OtaState): void;
}

/**
 * Verifies ota/package.tar.gz against `t` (checksum, then manifest name/version/arch/ABI) and
 * writes apply.json. Throws OtaDownloadError with the reason, having removed the package, when
 * it is refused; on success the caller restarts (exit 75) so the guard applies it.
 */
export async function verifyAndApply(d: ApplyDeps, t: OtaTarget, source: UpdateSource): Promise<void> {
  const algorithm = t.algorithm.toUpperCase();
  if (!isOtaAlgorithm(algorithm)) throw new OtaDownloadError(`unknown checksum algorithm ${t.algorithm}`);
  d.state("DOWNLOADED");
  const file = d.files.path("package.tar.gz");
  const actual = await fileChecksum(file, algorithm);
  if (actual !== t.checksum) {
    d.files.remove("package.tar.gz", "download.json");
    const expected = source.kind === "upload" ? "the SHA-256 given with the upload" : "sw_checksum";
    throw new OtaDownloadError(
      `checksum mismatch: ${algorithm} of the ${source.kind === "upload" ? "upload" : "download"} is ${actual}, ${expected} is ${t.checksum}`,
    );
  }
  d.state("VERIFIED");
  const manifest = await readManifest(file);
  const why =
    typeof manifest === "string"
      ? manifest
      : manifestMismatch(manifest, { name: d.app.name, version: t.version, arch: d.arch, nodeAbi: d.nodeAbi });
  if (why) {
    d.files.remove("package.tar.gz", "download.json");
    throw new OtaDownloadError(why);
  }
  d.state("UPDATING");
  // The healthy file stays: if this release is still "on trial" in pending.json (the guard
  // closes a trial only at the next start, which is usually this one), the guard needs it to
  // end the trial and apply the package, or it would count a start of this healthy release
  // and later roll it back. The guard removes it once it switches to the new release.
  d.files.write("apply.json", {
    title: t.title,
    version: t.version,
    checksum: t.checksum,
    algorithm,
    file: "package.tar.gz",
    from: d.app.version,
    source: source.kind,
    ...(source.kind === "upload" ? { by: source.by } : {}),
  });
  d.log.warn(
    `sw ${t.version} (${describeSource(source)}) verified; restarting so the release is unpacked and switched to`,
  );
}

export function describeSource(s: UpdateSource): string {
  return s.kind === "upload" ? `uploaded on the dashboard by ${s.by}` : "from ThingsBoard";
}

export function mb(n: number): number {
  return Math.round(n / 1048576);
}
