// A recording stand-in for the updater's ThingsBoard link (server/features/ota/updater.ts OtaLink)
// where the test is about what happens on the unit, not over MQTT (the emulator tests in
// test/server/features/ota cover the wire): telemetry is recorded, chunk requests are recorded and
// never answered (a download stays "under way" until the test says otherwise).
import type { KeyValues } from "../../server/gateway/protocol.ts";
import { OtaUpdater, type OtaLink, type OtaUpdaterOptions } from "../../server/features/ota/updater.ts";
import { silentLogger } from "../../server/util/logger.ts";

export interface RecordingOtaLink extends OtaLink {
  sent: Array<{ ts: number; values: KeyValues }>;
  published: Array<{ topic: string; payload: string }>;
  /** The sw_* shared attributes "ThingsBoard" answers with after each connect. */
  shared: Record<string, unknown>;
  /** Every sw_state reported, in order. */
  states(): string[];
  lastError(): string | undefined;
}

export function recordingOtaLink(): RecordingOtaLink {
  const link: RecordingOtaLink = {
    sent: [],
    published: [],
    shared: {},
    publish: async (topic, payload) => {
      link.published.push({ topic, payload });
    },
    onMessage: () => undefined,
    requestShared: async () => ({ ...link.shared }),
    telemetry: (values, ts) => link.sent.push({ ts, values }),
    maxPayloadSize: () => undefined,
    states: () => link.sent.flatMap((r) => (typeof r.values["sw_state"] === "string" ? [r.values["sw_state"]] : [])),
    lastError: () => {
      const e = link.sent.filter((r) => typeof r.values["sw_error"] === "string").at(-1)?.values["sw_error"];
      return typeof e === "string" ? e : undefined;
    },
  };
  return link;
}

export interface TestUpdater {
  updater: OtaUpdater;
  link: RecordingOtaLink;
  restarts(): number;
}

/** A real OtaUpdater over the recording link, running version `version` of rpi-tb-gateway. */
export function testUpdater(dataDir: string, o: Partial<OtaUpdaterOptions> = {}, version = "1.0.0"): TestUpdater {
  const link = recordingOtaLink();
  let restarts = 0;
  const updater = new OtaUpdater({
    dataDir,
    log: silentLogger(),
    link,
    app: { name: "rpi-tb-gateway", version },
    chunkBytes: 4096,
    chunkTimeoutMs: 60_000,
    healthDeadlineMs: 60_000,
    restart: () => restarts++,
    ...o,
  });
  updater.start();
  return { updater, link, restarts: () => restarts };
}
