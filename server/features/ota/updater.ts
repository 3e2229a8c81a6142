// Over-the-air update of the appliance itself through ThingsBoard's OTA protocol (issue 16).
// ThingsBoard (DefaultOtaPackageStateService) pushes sw_title, sw_version, sw_size, sw_checksum
// and sw_checksum_algorithm as shared attributes of the gateway device; we also ask for them
// after every connect. The device reports sw_state (OtaPackageUpdateStatus: DOWNLOADING,
// DOWNLOADED, VERIFIED, UPDATING, UPDATED, FAILED + sw_error) and current_sw_title/version
// (OtaPackageUtil.getCurrentTelemetryKey) as telemetry.
// The service itself cannot write the release directory (root-owned, ProtectSystem=strict):
// it downloads, verifies and checks the manifest, writes ota/apply.json and exits for a
// restart; scripts/ota-guard.sh (ExecStartPre=+ of the unit, as root) unpacks, switches
// `current` and rolls back a release that does not become healthy.
import { statfs } from "node:fs/promises";
import type { KeyValues } from "../../gateway/protocol.ts";
import type { UpdateStatus } from "../../events.ts";
import type { Logger } from "../../util/logger.ts";
import type { Feature } from "../feature.ts";
import { detach } from "../../util/detach.ts";
import { fileChecksum, isOtaAlgorithm } from "./checksum.ts";
import { downloadPackage, OtaDownloadError, type ChunkSource } from "./chunkDownload.ts";
import { manifestMismatch, readManifest } from "./manifest.ts";
import { OtaFiles, sameTarget, type OtaResult, type OtaTarget } from "./otaFiles.ts";

export const SW_KEYS = [
  "sw_title",
  "sw_version",
  "sw_size",
  "sw_checksum",
  "sw_checksum_algorithm",
  "sw_url",
  "sw_tag",
];
export type OtaState = "DOWNLOADING" | "DOWNLOADED" | "VERIFIED" | "UPDATING" | "UPDATED" | "FAILED";

export interface OtaLink {
  publish(topic: string, payload: string): Promise<void>;
  onMessage(cb: (topic: string, payload: Buffer) => void): void;
  requestShared(keys: string[]): Promise<Record<string, unknown>>;
  telemetry(values: KeyValues, ts: number): void;
  /** The session's maxPayloadSize from getSessionLimits, when known. */
  maxPayloadSize(): number | undefined;
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
  freeBytes?: (dir: string) => Promise<number>;
  onStatus?: (s: OtaStatus) => void;
}

/** Room needed in the data dir: the package plus its unpacked copy (about 4x the gzip) and 20 MB. */
const SPACE_FACTOR = 5;
const SPACE_MARGIN = 20 * 1024 * 1024;
const RESPONSE = /^v2\/sw\/response\/(\d+)\/chunk\/(\d+)$/;

class OtaServerError extends Error {}

export class OtaUpdater implements ChunkSource, Feature {
  readonly files: OtaFiles;
  readonly #o: OtaUpdaterOptions;
  #shared: Record<string, unknown> = {};
  #status: OtaStatus;
  #running: OtaTarget | undefined;
  #cancel = false;
  #lastTs = 0;
  #nextRequestId = 1;
  #waiters = new Map<string, { resolve: (b: Buffer) => void; reject: (e: Error) => void; timer: NodeJS.Timeout }>();
  #healthTimer: NodeJS.Timeout | undefined;
  #healthy = false;
  #connected = false;
  #stopped = false;
  #onConnect: Array<() => void> = [];

  constructor(o: OtaUpdaterOptions) {
    this.#o = o;
    this.files = new OtaFiles(o.dataDir);
    const last = this.files.result();
    this.#status = { running: { title: o.app.name, version: o.app.version }, trial: false, ...(last ? { last } : {}) };
    o.link.onMessage((t, p) => this.#onMessage(t, p));
  }

  status(): OtaStatus {
    return structuredClone(this.#status);
  }

  /** After a restart: is this release on trial (the guard just switched to it)? Then the health deadline runs. */
  start(): void {
    const pending = this.files.pending();
    if (pending?.version === this.#o.app.version && this.files.read("result.json")?.["version"] !== pending.version) {
      this.#status.trial = true;
      this.#o.log.warn(
        `release ${pending.version} is on trial: it must connect with its devices running within ${Math.round(this.#o.healthDeadlineMs / 1000)} s or it is rolled back`,
      );
      this.#healthTimer = setTimeout(() => this.#unhealthy(), this.#o.healthDeadlineMs);
      this.#healthTimer.unref();
    }
    this.#emit();
  }

  stop(): void {
    clearTimeout(this.#healthTimer);
    this.#stopped = true;
    this.#cancel = true;
    for (const resolve of this.#onConnect.splice(0)) resolve();
    for (const w of this.#waiters.values()) {
      clearTimeout(w.timer);
      w.reject(new OtaDownloadError("cancelled"));
    }
    this.#waiters.clear();
  }

  /** Connected to ThingsBoard with the devices running (the bridge is ready). */
  onReady(): void {
    this.#connected = true;
    for (const resolve of this.#onConnect.splice(0)) resolve();
    if (this.#status.trial && !this.#healthy) this.#markHealthy();
    this.#report({ current_sw_title: this.#o.app.name, current_sw_version: this.#o.app.version });
    const last = this.files.result();
    if (last && !last.reported) {
      this.#report(
        last.state === "FAILED"
          ? { sw_state: "FAILED", sw_error: last.error ?? "update failed" }
          : { sw_state: "UPDATED" },
      );
      this.files.write("result.json", { ...last, reported: true });
    }
    detach("asking ThingsBoard for the sw_* attributes", this.#requestAttributes(), this.#o.log);
  }

  onDisconnected(): void {
    this.#connected = false;
    for (const [k, w] of this.#waiters) {
      clearTimeout(w.timer);
      w.reject(new Error("connection lost"));
      this.#waiters.delete(k);
    }
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

  chunk(requestId: number, n: number, chunkSize: number): Promise<Buffer> {
    return new Promise((resolve, reject) => {
      const key = `${requestId}/${n}`;
      const timer = setTimeout(() => {
        this.#waiters.delete(key);
        reject(new Error(`no answer to chunk ${n} within ${this.#o.chunkTimeoutMs} ms`));
      }, this.#o.chunkTimeoutMs);
      this.#waiters.set(key, { resolve, reject, timer });
      this.#o.link.publish(`v2/sw/request/${requestId}/chunk/${n}`, String(chunkSize)).catch((err: unknown) => {
        clearTimeout(timer);
        this.#waiters.delete(key);
        reject(err instanceof Error ? err : new Error(String(err)));
      });
    });
  }

  #onMessage(topic: string, payload: Buffer): void {
    const m = RESPONSE.exec(topic);
    if (m) {
      const w = this.#waiters.get(`${m[1]}/${m[2]}`);
      if (!w) return;
      clearTimeout(w.timer);
      this.#waiters.delete(`${m[1]}/${m[2]}`);
      w.resolve(payload);
      return;
    }
    if (topic === "v2/fw/error" || topic === "v2/sw/error") {
      const text = payload.toString("utf8").slice(0, 200);
      for (const [k, w] of this.#waiters) {
        clearTimeout(w.timer);
        w.reject(new OtaServerError(`ThingsBoard answered ${text}`));
        this.#waiters.delete(k);
      }
    }
  }

  async #requestAttributes(): Promise<void> {
    const shared = await this.#o.link.requestShared(SW_KEYS);
    this.#shared = {};
    for (const k of SW_KEYS) if (k in shared) this.#shared[k] = shared[k];
    this.#consider();
  }

  #target(): OtaTarget | string | undefined {
    const s = this.#shared;
    if (typeof s["sw_title"] !== "string" || typeof s["sw_version"] !== "string") return undefined;
    if (typeof s["sw_url"] === "string")
      return "packages given by URL are not supported; upload the file to ThingsBoard";
    const { sw_size: size, sw_checksum: checksum, sw_checksum_algorithm: algorithm } = s;
    if (typeof size !== "number" || !Number.isSafeInteger(size) || size <= 0)
      return "sw_size is missing or not a positive integer";
    if (typeof checksum !== "string" || typeof algorithm !== "string")
      return "sw_checksum or sw_checksum_algorithm is missing";
    return { title: s["sw_title"], version: s["sw_version"], size, checksum: checksum.toLowerCase(), algorithm };
  }

  #consider(): void {
    const t = this.#target();
    if (t === undefined) {
      if (this.#running) this.#cancel = true;
      return;
    }
    if (typeof t === "string") return this.#fail(t);
    if (t.title === this.#o.app.name && t.version === this.#o.app.version) return;
    const last = this.files.result();
    if (last?.state === "FAILED" && last.version === t.version && last.checksum === t.checksum) {
      // Warn: only the operator can move on (assign another package, or this one again after fixing it).
      this.#o.log.warn(
        `not taking sw ${t.title} ${t.version} again: it failed before (${last.error ?? "?"}); assign another package to retry`,
      );
      return;
    }
    if (sameTarget(this.#running, t)) return;
    if (this.#running) {
      this.#cancel = true;
      return;
    }
    this.#running = t;
    this.#cancel = false;
    detach("updating the appliance", this.#run(t), this.#o.log);
  }

  async #run(t: OtaTarget): Promise<void> {
    this.#status = { ...this.#status, target: { title: t.title, version: t.version, size: t.size }, received: 0 };
    delete this.#status.error;
    try {
      if (t.title !== this.#o.app.name)
        throw new OtaDownloadError(`the package is "${t.title}"; this appliance runs "${this.#o.app.name}"`);
      const algorithm = t.algorithm.toUpperCase();
      if (!isOtaAlgorithm(algorithm)) throw new OtaDownloadError(`unknown checksum algorithm ${t.algorithm}`);
      const free = await (this.#o.freeBytes ?? freeBytesOf)(this.files.dir);
      const need = t.size * SPACE_FACTOR + SPACE_MARGIN;
      if (free < need)
        throw new OtaDownloadError(
          `not enough disk space: ${mb(free)} MB free in ${this.files.dir}, ${mb(need)} MB needed`,
        );
      this.#state("DOWNLOADING");
      await this.#download(t);
      this.#state("DOWNLOADED");
      const file = this.files.path("package.tar.gz");
      const actual = await fileChecksum(file, algorithm);
      if (actual !== t.checksum) {
        this.files.remove("package.tar.gz", "download.json");
        throw new OtaDownloadError(
          `checksum mismatch: ${algorithm} of the download is ${actual}, sw_checksum is ${t.checksum}`,
        );
      }
      this.#state("VERIFIED");
      const manifest = await readManifest(file);
      const why =
        typeof manifest === "string"
          ? manifest
          : manifestMismatch(manifest, {
              name: this.#o.app.name,
              version: t.version,
              arch: this.#o.arch ?? process.arch,
              nodeAbi: this.#o.nodeAbi ?? process.versions.modules,
            });
      if (why) {
        this.files.remove("package.tar.gz", "download.json");
        throw new OtaDownloadError(why);
      }
      this.#state("UPDATING");
      this.files.remove("healthy");
      this.files.write("apply.json", {
        title: t.title,
        version: t.version,
        checksum: t.checksum,
        algorithm,
        file: "package.tar.gz",
        from: this.#o.app.version,
      });
      this.#o.log.warn(`sw ${t.version} verified; restarting so the release is unpacked and switched to`);
      this.#o.restart();
    } catch (err) {
      // Stopping (shutdown, restart) is not a failure: the partial download resumes next time.
      if (this.#stopped) return;
      if (this.#cancel && err instanceof OtaDownloadError && err.message === "cancelled") {
        this.#o.log.info(`download of sw ${t.version} cancelled (the assignment changed)`);
      } else this.#fail((err as Error).message, t);
    } finally {
      this.#running = undefined;
      if (this.#cancel && !this.#stopped) {
        this.#cancel = false;
        this.#consider();
      }
    }
  }

  /** Downloads with resume: a lost connection waits for the next one and carries on where it stopped. */
  async #download(t: OtaTarget): Promise<void> {
    let failures = 0;
    for (;;) {
      const chunkSize = Math.max(1, Math.min(this.#o.chunkBytes, this.#o.link.maxPayloadSize() ?? this.#o.chunkBytes));
      try {
        await downloadPackage(
          this.files,
          t,
          this,
          chunkSize,
          this.#nextRequestId++,
          (received) => {
            this.#status.received = received;
            failures = 0;
            this.#emit();
          },
          () => this.#cancel,
        );
        return;
      } catch (err) {
        if (err instanceof OtaDownloadError || err instanceof OtaServerError) throw err;
        if (++failures >= 5) throw new Error(`download stopped: ${(err as Error).message}`, { cause: err });
        this.#o.log.warn(`download of sw ${t.version} interrupted (${(err as Error).message}); resuming`);
        await this.#whenConnected();
      }
    }
  }

  #whenConnected(): Promise<void> {
    if (this.#connected) return Promise.resolve();
    return new Promise((resolve) => this.#onConnect.push(resolve));
  }

  #markHealthy(): void {
    this.#healthy = true;
    clearTimeout(this.#healthTimer);
    const result: OtaResult = {
      state: "UPDATED",
      title: this.#o.app.name,
      version: this.#o.app.version,
      ts: Date.now(),
      reported: false,
    };
    this.files.write("healthy", { version: this.#o.app.version });
    this.files.write("result.json", result);
    this.files.remove("package.tar.gz", "download.json", "apply.json");
    this.#status = { ...this.#status, trial: false, state: "UPDATED", last: result };
    this.#o.log.info(`release ${this.#o.app.version} is healthy: connected to ThingsBoard with its devices running`);
    this.#emit();
  }

  #unhealthy(): void {
    if (this.#healthy) return;
    this.#o.log.error(
      `release ${this.#o.app.version} did not become healthy within ${Math.round(this.#o.healthDeadlineMs / 1000)} s; restarting so the previous release comes back`,
    );
    this.#o.restart();
  }

  #fail(error: string, t?: OtaTarget): void {
    this.#o.log.error(`software update failed: ${error}`);
    const result: OtaResult = {
      state: "FAILED",
      title: t?.title ?? "",
      version: t?.version ?? "",
      error,
      ts: Date.now(),
      reported: true,
      ...(t ? { checksum: t.checksum } : {}),
    };
    this.files.write("result.json", result);
    this.#status = { ...this.#status, state: "FAILED", error, last: result };
    this.#report({ sw_state: "FAILED", sw_error: error });
  }

  #state(state: OtaState): void {
    this.#status.state = state;
    this.#report({ sw_state: state });
  }

  /** Strictly increasing timestamps: two states in one millisecond would overwrite each other in ThingsBoard. */
  #report(values: KeyValues): void {
    const ts = Math.max(Date.now(), this.#lastTs + 1);
    this.#lastTs = ts;
    this.#o.link.telemetry(values, ts);
    this.#emit();
  }

  #emit(): void {
    this.#o.onStatus?.(this.status());
  }
}

async function freeBytesOf(dir: string): Promise<number> {
  const s = await statfs(dir);
  return s.bavail * s.bsize;
}

function mb(n: number): number {
  return Math.round(n / 1048576);
}
