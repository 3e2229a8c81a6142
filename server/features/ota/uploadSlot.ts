// A package uploaded on the dashboard, after the updater reserved itself for it
// (OtaUpdater.reserveUpload): the HTTP side streams the bytes into ota/upload.part, then
// complete() moves the whole file to ota/package.tar.gz and hands it to the same path as a
// ThingsBoard download (applyPackage.ts). The version comes from the package's own manifest:
// unlike ThingsBoard, nobody announced one. upload.part is never applied (the guard only takes
// package.tar.gz named by apply.json), and it is removed when the upload does not end whole.
import { renameSync, rmSync } from "node:fs";
import type { UpdateSource } from "../../events.ts";
import type { Logger } from "../../util/logger.ts";
import { readManifest } from "./manifest.ts";
import type { OtaFiles, OtaTarget } from "./otaFiles.ts";

export interface UploadRefusal {
  /** 409 busy with another update, 503 shutting down, 507 not enough disk space. */
  status: 409 | 503 | 507;
  error: string;
}

export type UploadOutcome = { ok: true; version: string; restart(): void } | { ok: false; error: string };

export interface UploadSlot {
  /** Where the bytes go while they arrive. */
  readonly file: string;
  progress(received: number): void;
  /** The upload did not arrive whole (cut off, disk full): the part is removed and FAILED reported. */
  fail(error: string): void;
  /** The file is whole: checksum, manifest and apply.json, as for a ThingsBoard package. */
  complete(o: { sha256: string; expectedSha256?: string }): Promise<UploadOutcome>;
}

export interface SlotDeps {
  files: OtaFiles;
  log: Logger;
  app: { name: string; version: string };
  size: number;
  source: UpdateSource;
  progress(received: number): void;
  /** The updater's shared path (throws with the reason when the package is refused). */
  apply(t: OtaTarget): Promise<void>;
  restart(): void;
  failed(error: string, t?: OtaTarget): void;
}

export function isUploadRefusal(v: UploadSlot | UploadRefusal): v is UploadRefusal {
  return "status" in v;
}

export function openUploadSlot(d: SlotDeps): UploadSlot {
  const file = d.files.path("upload.part");
  rmSync(file, { force: true });
  let done = false;
  const fail = (error: string, t?: OtaTarget): { ok: false; error: string } => {
    if (!done) {
      done = true;
      rmSync(file, { force: true });
      d.failed(error, t);
    }
    return { ok: false, error };
  };
  return {
    file,
    progress: (received) => {
      if (!done) d.progress(received);
    },
    fail: (error) => {
      fail(error);
    },
    complete: async ({ sha256, expectedSha256 }) => {
      if (done) return { ok: false, error: "the upload has already ended" };
      d.log.info(`upload complete: ${d.size} bytes, SHA-256 ${sha256}`);
      const pkg = d.files.path("package.tar.gz");
      renameSync(file, pkg);
      const manifest = await readManifest(pkg);
      if (typeof manifest === "string") {
        d.files.remove("package.tar.gz");
        return fail(manifest);
      }
      const t: OtaTarget = {
        title: manifest.name,
        version: manifest.version,
        size: d.size,
        checksum: (expectedSha256 ?? sha256).toLowerCase(),
        algorithm: "SHA256",
      };
      if (manifest.name === d.app.name && manifest.version === d.app.version) {
        d.files.remove("package.tar.gz");
        return fail(`this unit already runs ${manifest.name} ${manifest.version}`, t);
      }
      try {
        await d.apply(t);
      } catch (err) {
        return fail(err instanceof Error ? err.message : String(err), t);
      }
      done = true;
      return { ok: true, version: t.version, restart: () => d.restart() };
    },
  };
}
