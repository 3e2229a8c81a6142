// Connects the OTA updater to the ThingsBoard link: chunk requests and answers go straight over
// the MQTT connection (binary, outside the outbox), sw_state goes through the outbox as the
// gateway's own telemetry (so UPDATING survives the restart that follows it), and the sw_*
// shared attributes are asked for after every connect.
import type { Config } from "../../config/schema.ts";
import type { EventBus } from "../../eventBus.ts";
import type { ThingsBoardLink } from "../../thingsboardLink.ts";
import { isObject } from "../../util/json.ts";
import type { Logger } from "../../util/logger.ts";
import { describeSource, UPLOAD_VERSION } from "./applyPackage.ts";
import { OtaUpdater, SW_KEYS, type OtaStatus } from "./updater.ts";

export interface OtaWiring {
  link: ThingsBoardLink;
  bus: EventBus;
  log: Logger;
  dataDir: string;
  ota: Config["gateway"]["ota"];
  app: { name: string; version: string };
  restart: () => void;
  onStatus?: (s: OtaStatus) => void;
  /** Tell the dashboard: each state change goes to the event log and a fresh snapshot. */
  announce?: boolean;
}

export function createOtaUpdater(w: OtaWiring): OtaUpdater {
  const { connection, bridge } = w.link;
  let lastAnnounced = "";
  const updater = new OtaUpdater({
    dataDir: w.dataDir,
    log: w.log,
    app: w.app,
    chunkBytes: w.ota.chunkBytes,
    chunkTimeoutMs: w.ota.chunkTimeoutSec * 1000,
    healthDeadlineMs: w.ota.healthDeadlineSec * 1000,
    restart: w.restart,
    onStatus: (s) => {
      w.onStatus?.(s);
      if (!w.announce) return;
      const key = `${s.state ?? ""} ${s.target?.version ?? ""} ${s.trial} ${s.source?.kind ?? ""}`;
      if (key === lastAnnounced) return;
      lastAnnounced = key;
      if (s.state) {
        const version = s.target?.version ?? s.last?.version ?? s.running.version;
        const from = s.source ? ` (${describeSource(s.source)})` : "";
        const what = version === UPLOAD_VERSION ? "software package upload" : `software update to ${version}`;
        const text = `${what}${from}: ${s.state}${s.state === "FAILED" && s.error ? ` (${s.error})` : ""}`;
        w.bus.emit("eventLog", {
          ts: Date.now(),
          kind: s.state === "FAILED" ? "error" : "info",
          text,
          ...(s.state === "FAILED" ? { ok: false } : {}),
        });
      }
      // Progress within a state shows on the next snapshot; state changes push one now.
      w.bus.emit("devicesChanged");
    },
    link: {
      publish: (topic, payload) => connection.publish(topic, payload),
      onMessage: (cb) => connection.onMessage(cb),
      requestShared: async (keys) => {
        const r = await bridge.requestOwnAttributes([], keys);
        const shared = isObject(r) ? r["shared"] : undefined;
        return isObject(shared) ? shared : {};
      },
      telemetry: (values, ts) => bridge.ownTelemetry({ ts, values }),
      maxPayloadSize: () => bridge.sessionLimits?.maxPayloadSize,
    },
  });
  bridge.onReady(() => updater.onReady());
  w.bus.on(updater, "connection", (s) => {
    if (s.state !== "connected") updater.onDisconnected();
  });
  return updater;
}

/** The shared attributes that are not the updater's (for remote configuration). */
export function withoutOtaKeys(
  data: Record<string, unknown>,
  deleted: string[],
): { data: Record<string, unknown>; deleted: string[] } {
  const rest: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(data)) if (!SW_KEYS.includes(k)) rest[k] = v;
  return { data: rest, deleted: deleted.filter((k) => !SW_KEYS.includes(k)) };
}
