// Over-the-air update of the appliance itself through ThingsBoard's OTA protocol (issue 16).
// ThingsBoard (DefaultOtaPackageStateService) pushes sw_title, sw_version, sw_size, sw_checksum
// and sw_checksum_algorithm as shared attributes of the gateway device; we also ask for them
// after every connect. The device reports sw_state (OtaPackageUpdateStatus: DOWNLOADING,
// DOWNLOADED, VERIFIED, UPDATING, UPDATED, FAILED + sw_error) and current_sw_title/version
// (OtaPackageUtil.getCurrentTelemetryKey) as telemetry.
// The service itself cannot write the release directory (root-owned, ProtectSystem=strict):
// it downloads, verifies and checks the manifest, writes ota/apply.json and exits for a
// restart; scripts/ota-guard.sh (ExecStartPre=+ of the unit, as root) unpacks, switches
// `current` and rolls back a release that does not become healthy. A package uploaded on the
// dashboard (uploadSlot.ts) takes the same path from the checksum on (applyPackage.ts).
import type { KeyValues } from "../../gateway/protocol.ts";
import type { UpdateSource, UpdateStatus } from "../../events.ts";
import type { Logger } from "../../util/logger.ts";
import type { Feature } from "../feature.ts";
import { detach } from "../../util/detach.ts";
import { isOtaAlgorithm } from "./checksum.ts";
import { OtaDownloadError } from "./chunkDownload.ts";
import { OtaFiles, sameTarget, type OtaTarget } from "./otaFiles.ts";
import { lackOfSpace, UPLOAD_VERSION, verifyAndApply, type FreeBytes } from "./applyPackage.ts";
import { announcedTarget, SW_KEYS } from "./swAttributes.ts";
import { OtaReporter } from "./otaReporter.ts";
import { ReleaseTrial } from "./releaseTrial.ts";
import { TbChunks, type ChunkLink } from "./tbChunks.ts";
import { openUploadSlot, type UploadRefusal, type UploadSlot } from "./uploadSlot.ts";

export type { OtaState } from "./applyPackage.ts";

export { SW_KEYS } from "./swAttributes.ts";

export interface OtaLink extends ChunkLink {
  requestShared(keys: string[]): Promise<Record<string, unknown>>;
  telemetry(values: KeyValues, ts: number): void;
}

export type OtaStatus = UpdateStatus;

export interface OtaUpdaterOptions {
  dataDir: string;
  log: Logger;
  link: OtaLink;
  app: { name: string; version: string };
  arch?: string;
  nodeAbi?: string;
  chunkBytes: number;
  chunkTimeoutMs: number;
  /** A new release must be connected with its devices running within this time, or it is rolled back. */
  healthDeadlineMs: number;
  /** Restart through systemd (exit 75): the guard applies the package before the next start. */
  restart: () => void;
  freeBytes?: FreeBytes;
  onStatus?: (s: OtaStatus) => void;
}

/** What the updater is busy with: one update at a time, whichever its source. */
interface Running {
  source: UpdateSource;
  target: OtaTarget;
}

export class OtaUpdater implements Feature {
  readonly files: OtaFiles;
  readonly #o: OtaUpdaterOptions;
  readonly #chunks: TbChunks;
  #shared: Record<string, unknown> = {};
  readonly #out: OtaReporter;
  #running: Running | undefined;
  #cancel = false;
  readonly #trial: ReleaseTrial;
  #stopped = false;

  constructor(o: OtaUpdaterOptions) {
    this.#o = o;
    this.files = new OtaFiles(o.dataDir);
    this.#chunks = new TbChunks({
      link: o.link,
      log: o.log,
      chunkBytes: o.chunkBytes,
      chunkTimeoutMs: o.chunkTimeoutMs,
    });
    this.#trial = new ReleaseTrial({
      files: this.files,
      log: o.log,
      app: o.app,
      healthDeadlineMs: o.healthDeadlineMs,
      restart: () => o.restart(),
    });
    this.#out = new OtaReporter({
      files: this.files,
      log: o.log,
      app: o.app,
      telemetry: (values, ts) => o.link.telemetry(values, ts),
      ...(o.onStatus ? { onStatus: o.onStatus } : {}),
    });
  }

  status(): OtaStatus {
    return structuredClone(this.#out.status);
  }

  /** After a restart: is this release on trial (the guard just switched to it)? Then the health deadline runs. */
  start(): void {
    this.#out.trial(this.#trial.begin());
    this.#out.emit();
  }

  stop(): void {
    this.#trial.stop();
    this.#stopped = true;
    this.#cancel = true;
    this.#chunks.stop();
  }

  /** Connected to ThingsBoard with the devices running (the bridge is ready). */
  onReady(): void {
    this.#chunks.connected();
    if (this.#trial.on) {
      const result = this.#trial.healthy();
      this.#out.trial(false, result);
    }
    this.#out.report({ current_sw_title: this.#o.app.name, current_sw_version: this.#o.app.version });
    const last = this.files.result();
    if (last && !last.reported) {
      this.#out.report(
        last.state === "FAILED"
          ? { sw_state: "FAILED", sw_error: last.error ?? "update failed" }
          : { sw_state: "UPDATED" },
      );
      this.files.write("result.json", { ...last, reported: true });
    }
    detach("asking ThingsBoard for the sw_* attributes", this.#requestAttributes(), this.#o.log);
  }

  onDisconnected(): void {
    this.#chunks.disconnected();
  }

  /** Shared attribute update of the gateway device (only the sw_* keys matter here). */
  onSharedAttributes(data: Record<string, unknown>, deleted: string[]): void {
    let touched = false;
    for (const [k, v] of Object.entries(data))
      if (SW_KEYS.includes(k)) {
        this.#shared[k] = v;
        touched = true;
      }
    for (const k of deleted)
      if (SW_KEYS.includes(k)) {
        delete this.#shared[k];
        touched = true;
      }
    if (touched) this.#consider();
  }

  /**
   * A package uploaded on the dashboard by an admin (`by` says who, for the logs): refused while
   * another update is under way or the package would not fit; else the caller streams it into
   * slot.file and calls slot.complete(), which takes the ThingsBoard path from the checksum on.
   */
  async reserveUpload(size: number, by: string): Promise<UploadSlot | UploadRefusal> {
    if (this.#stopped) return { status: 503, error: "the appliance is shutting down" };
    const busy = this.#busy();
    if (busy) return { status: 409, error: busy };
    const source: UpdateSource = { kind: "upload", by };
    const target: OtaTarget = {
      title: this.#o.app.name,
      version: UPLOAD_VERSION,
      size,
      checksum: "",
      algorithm: "SHA256",
    };
    this.#running = { source, target };
    const space = await lackOfSpace(this.files.dir, size, this.#o.freeBytes).catch((e: Error) => e.message);
    if (space) {
      this.#running = undefined;
      this.#o.log.warn(`upload of ${size} bytes by ${by} refused: ${space}`);
      return { status: 507, error: space };
    }
    this.#out.begin(target, source);
    this.#o.log.info(`receiving a package of ${size} bytes uploaded on the dashboard by ${by}`);
    this.#out.state("DOWNLOADING");
    return openUploadSlot({
      files: this.files,
      log: this.#o.log,
      app: this.#o.app,
      size,
      source,
      progress: (received) => {
        this.#out.received(received);
      },
      apply: async (t) => {
        this.#running = { source, target: t };
        this.#out.target(t);
        await this.#apply(t, source);
      },
      restart: () => this.#o.restart(),
      failed: (error, t) => {
        this.#out.fail(error, t, source);
        this.#release(true);
      },
    });
  }

  /** Why no update can start now, or undefined. */
  #busy(): string | undefined {
    const r = this.#running;
    if (this.#out.status.state === "UPDATING") return "an update is being applied: the appliance is restarting";
    if (r?.source.kind === "upload") return `another package is being uploaded (by ${r.source.by})`;
    if (r) return `an update from ThingsBoard to ${r.target.version} is under way; try again when it has ended`;
    if (this.#out.status.trial)
      return `release ${this.#o.app.version} is on trial until it proves healthy; try again when it has`;
    return undefined;
  }

  async #requestAttributes(): Promise<void> {
    const shared = await this.#o.link.requestShared(SW_KEYS);
    this.#shared = {};
    for (const k of SW_KEYS) if (k in shared) this.#shared[k] = shared[k];
    this.#consider();
  }

  #consider(): void {
    // An upload holds the updater; the assignment is looked at again when it has failed.
    if (this.#running?.source.kind === "upload" || this.#out.status.state === "UPDATING") return;
    const t = announcedTarget(this.#shared);
    if (t === undefined) {
      if (this.#running) this.#cancel = true;
      return;
    }
    if (typeof t === "string") return this.#out.fail(t);
    if (t.title === this.#o.app.name && t.version === this.#o.app.version) return;
    const last = this.files.result();
    if (last?.state === "FAILED" && last.version === t.version && last.checksum === t.checksum) {
      // Warn: only the operator can move on (assign another package, or this one again after fixing it).
      this.#o.log.warn(
        `not taking sw ${t.title} ${t.version} again: it failed before (${last.error ?? "?"}); assign another package to retry`,
      );
      return;
    }
    if (sameTarget(this.#running?.target, t)) return;
    if (this.#running) {
      this.#cancel = true;
      return;
    }
    this.#running = { source: { kind: "thingsboard" }, target: t };
    this.#cancel = false;
    detach("updating the appliance", this.#run(t), this.#o.log);
  }

  async #run(t: OtaTarget): Promise<void> {
    const source: UpdateSource = { kind: "thingsboard" };
    this.#out.begin(t, source);
    try {
      if (t.title !== this.#o.app.name)
        throw new OtaDownloadError(`the package is "${t.title}"; this appliance runs "${this.#o.app.name}"`);
      if (!isOtaAlgorithm(t.algorithm.toUpperCase()))
        throw new OtaDownloadError(`unknown checksum algorithm ${t.algorithm}`);
      const space = await lackOfSpace(this.files.dir, t.size, this.#o.freeBytes);
      if (space) throw new OtaDownloadError(space);
      this.#out.state("DOWNLOADING");
      await this.#chunks.download(
        this.files,
        t,
        (received) => {
          this.#out.received(received);
        },
        () => this.#cancel,
      );
      await this.#apply(t, source);
      this.#o.restart();
    } catch (err) {
      // Stopping (shutdown, restart) is not a failure: the partial download resumes next time.
      if (this.#stopped) return;
      if (this.#cancel && err instanceof OtaDownloadError && err.message === "cancelled") {
        this.#o.log.info(`download of sw ${t.version} cancelled (the assignment changed)`);
      } else this.#out.fail((err as Error).message, t, source);
    } finally {
      // A cancelled download makes way for the new assignment; a failed one waits for another.
      if (this.#out.status.state !== "UPDATING") this.#release(this.#cancel);
    }
  }

  /** The shared path from the checksum on (applyPackage.ts); origin.json tells the next release the source. */
  async #apply(t: OtaTarget, source: UpdateSource): Promise<void> {
    this.files.write("origin.json", { version: t.version, source });
    await verifyAndApply(
      {
        files: this.files,
        log: this.#o.log,
        app: this.#o.app,
        arch: this.#o.arch ?? process.arch,
        nodeAbi: this.#o.nodeAbi ?? process.versions.modules,
        state: (s) => this.#out.state(s),
      },
      t,
      source,
    );
  }

  /** The update in progress ended without a restart: free the updater (and look at the assignment again). */
  #release(reconsider: boolean): void {
    this.#running = undefined;
    if (this.#stopped || !reconsider) return;
    this.#cancel = false;
    this.#consider();
  }
}
