// A release the guard (scripts/ota-guard.sh) has just switched to is on trial: it must reach
// "connected to ThingsBoard with its devices running" within gateway.ota.healthDeadlineSec, or it
// restarts so the guard's start count brings the previous release back. Once healthy it writes
// ota/healthy (read by the guard) and result.json UPDATED, with the source the service that
// applied it left in origin.json (ThingsBoard or an upload on the dashboard).
import type { Logger } from "../../util/logger.ts";
import { describeSource } from "./applyPackage.ts";
import { toSource, type OtaFiles, type OtaResult } from "./otaFiles.ts";

export interface TrialOptions {
  files: OtaFiles;
  log: Logger;
  app: { name: string; version: string };
  healthDeadlineMs: number;
  restart: () => void;
}

export class ReleaseTrial {
  readonly #o: TrialOptions;
  #timer: NodeJS.Timeout | undefined;
  #on = false;

  constructor(o: TrialOptions) {
    this.#o = o;
  }

  /** Whether this release is on trial; starts the health deadline when it is. */
  begin(): boolean {
    const { files, app, healthDeadlineMs } = this.#o;
    const pending = files.pending();
    if (pending?.version !== app.version || files.read("result.json")?.["version"] === pending.version) return false;
    this.#on = true;
    this.#o.log.warn(
      `release ${pending.version} is on trial: it must connect with its devices running within ${Math.round(healthDeadlineMs / 1000)} s or it is rolled back`,
    );
    this.#timer = setTimeout(() => this.#unhealthy(), healthDeadlineMs);
    this.#timer.unref();
    return true;
  }

  get on(): boolean {
    return this.#on;
  }

  stop(): void {
    clearTimeout(this.#timer);
  }

  /** Connected with the devices running: the trial is over; the result to show and report. */
  healthy(): OtaResult {
    this.#on = false;
    clearTimeout(this.#timer);
    const { files, app } = this.#o;
    const origin = files.read("origin.json");
    const source = origin?.["version"] === app.version ? toSource(origin["source"]) : undefined;
    const result: OtaResult = {
      state: "UPDATED",
      title: app.name,
      version: app.version,
      ts: Date.now(),
      reported: false,
      ...(source ? { source } : {}),
    };
    files.write("healthy", { version: app.version });
    files.write("result.json", result);
    files.remove("package.tar.gz", "download.json", "apply.json", "origin.json");
    this.#o.log.info(
      `release ${app.version} is healthy (${source ? describeSource(source) : "installed"}): connected to ThingsBoard with its devices running`,
    );
    return result;
  }

  #unhealthy(): void {
    if (!this.#on) return;
    this.#o.log.error(
      `release ${this.#o.app.version} did not become healthy within ${Math.round(this.#o.healthDeadlineMs / 1000)} s; restarting so the previous release comes back`,
    );
    this.#o.restart();
  }
}
