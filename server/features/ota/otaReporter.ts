// What the updater tells the world, from one place: sw_state / sw_error / current_sw_* telemetry
// to ThingsBoard (strictly increasing timestamps), the status the dashboard shows, and the last
// result in ota/result.json.
import type { UpdateSource, UpdateStatus } from "../../events.ts";
import type { KeyValues } from "../../gateway/protocol.ts";
import type { Logger } from "../../util/logger.ts";
import { describeSource, type OtaState } from "./applyPackage.ts";
import type { OtaFiles, OtaResult, OtaTarget } from "./otaFiles.ts";

export interface ReporterOptions {
  files: OtaFiles;
  log: Logger;
  app: { name: string; version: string };
  telemetry(values: KeyValues, ts: number): void;
  onStatus?: (s: UpdateStatus) => void;
}

export class OtaReporter {
  readonly #o: ReporterOptions;
  #status: UpdateStatus;
  #lastTs = 0;

  constructor(o: ReporterOptions) {
    this.#o = o;
    const last = o.files.result();
    this.#status = { running: { title: o.app.name, version: o.app.version }, trial: false, ...(last ? { last } : {}) };
  }

  get status(): Readonly<UpdateStatus> {
    return this.#status;
  }

  /** An update begins: what it is, where from, nothing received yet. */
  begin(t: OtaTarget, source: UpdateSource): void {
    const { error: _previous, ...rest } = this.#status;
    this.#status = { ...rest, target: { title: t.title, version: t.version, size: t.size }, received: 0, source };
  }

  /** The package's real name and version, once known (an upload's, from its manifest). */
  target(t: OtaTarget): void {
    this.#status.target = { title: t.title, version: t.version, size: t.size };
  }

  received(n: number): void {
    this.#status.received = n;
    this.emit();
  }

  trial(on: boolean, healthy?: OtaResult): void {
    this.#status = { ...this.#status, trial: on, ...(healthy ? { state: "UPDATED", last: healthy } : {}) };
  }

  state(state: OtaState): void {
    this.#status.state = state;
    this.report({ sw_state: state });
  }

  fail(error: string, t?: OtaTarget, source?: UpdateSource): void {
    this.#o.log.error(`software update failed${source ? ` (${describeSource(source)})` : ""}: ${error}`);
    const result: OtaResult = {
      state: "FAILED",
      title: t?.title ?? "",
      version: t?.version ?? "",
      error,
      ts: Date.now(),
      reported: true,
      ...(t?.checksum ? { checksum: t.checksum } : {}),
      ...(source ? { source } : {}),
    };
    try {
      this.#o.files.write("result.json", result);
    } catch (err) {
      // A full disk is a reason to fail, not to crash: the result is still reported and shown.
      this.#o.log.error(`cannot record the update result: ${(err as Error).message}`);
    }
    this.#o.files.remove("origin.json");
    this.#status = { ...this.#status, state: "FAILED", error, last: result };
    this.report({ sw_state: "FAILED", sw_error: error });
  }

  /** Strictly increasing timestamps: two states in one millisecond would overwrite each other in ThingsBoard. */
  report(values: KeyValues): void {
    const ts = Math.max(Date.now(), this.#lastTs + 1);
    this.#lastTs = ts;
    this.#o.telemetry(values, ts);
    this.emit();
  }

  emit(): void {
    this.#o.onStatus?.(structuredClone(this.#status));
  }
}
