// The v1/gateway/* topics of a gateway session (reference §4; AbstractGatewaySessionHandler).
// Every handler validates the payload first (E1/E2), then does the per-device work with one
// aggregated PUBACK for the whole message.
import type { IPublishPacket } from "mqtt-packet";
import { isObject, parseJson } from "./json.ts";
import { AggregateAck, PUBACK, rejectMalformed, rejectQuota, rejectStructural } from "./acks.ts";
import type { EmulatorCore } from "./core.ts";
import { DEFAULT_CLAIM_DURATION_MS, type TelemetryRecord } from "./model.ts";
import type { MqttSession } from "./session.ts";
import { buildGatewayAttributeResponse } from "./attributeResponses.ts";
import { ConversionError, dataPoints, toKeyValues, toTelemetryRecord } from "./values.ts";
import type { EmulatedDevice } from "./model.ts";

type Handler = (core: EmulatorCore, s: MqttSession, p: IPublishPacket, root: unknown) => void;

const HANDLERS: Record<string, Handler> = {
  "v1/gateway/connect": onConnect,
  "v1/gateway/disconnect": onDisconnect,
  "v1/gateway/telemetry": onTelemetry,
  "v1/gateway/attributes": onAttributes,
  "v1/gateway/attributes/request": onAttributesRequest,
  "v1/gateway/rpc": onRpcReply,
  "v1/gateway/claim": onClaim,
};

export function handleGatewayPublish(core: EmulatorCore, s: MqttSession, p: IPublishPacket, payload: Buffer): void {
  const handler = HANDLERS[p.topic];
  // Dispatch is by exact topic; anything else under v1/gateway gets 0x90 and the session stays.
  if (!handler) return s.puback(p, PUBACK.topicNameInvalid);
  // Gson reads an empty payload as JSON null, which then fails like malformed JSON. Gson is
  // lenient (single quotes, unquoted keys); we are strict, so such payloads are E1 here.
  const parsed = parseJson(payload);
  if (!parsed.ok || parsed.value === null) return rejectMalformed(s, p);
  handler(core, s, p, parsed.value);
}

function deviceField(root: unknown): string | undefined {
  if (!isObject(root)) return undefined;
  const d = root["device"];
  return typeof d === "string" && d.length > 0 ? d : undefined;
}

function onConnect(core: EmulatorCore, s: MqttSession, p: IPublishPacket, root: unknown): void {
  const name = deviceField(root);
  if (name === undefined || !isObject(root)) return rejectStructural(s, p);
  const rawType = root["type"];
  const type = typeof rawType === "string" && rawType.length > 0 ? rawType : "default";
  // processOnConnect: SUCCESS once the device is found or created; processFailure otherwise.
  const found = core.lookupSubDevice(s, name, type);
  if (!found.ok) return s.puback(p, found.code);
  s.puback(p);
  core.events.emit("connect", name);
}

function onDisconnect(core: EmulatorCore, s: MqttSession, p: IPublishPacket, root: unknown): void {
  const name = deviceField(root);
  if (name === undefined) return rejectStructural(s, p);
  // Acked even for a device this session never connected; no device is created (§4.2).
  core.disconnectSubDevice(s, name);
  s.puback(p);
  core.events.emit("disconnect", name);
}

/**
 * E3 inside a device callback (ackOrClose): v5 answers 0x99 once, 3.x closes the channel with
 * no PUBACK and no DISCONNECT.
 */
function conversionFailed(s: MqttSession, ack: AggregateAck): void {
  if (s.v5) ack.fail(PUBACK.payloadFormatInvalid);
  else s.close(undefined, true);
}

/**
 * The per-device part of a multi-device message, as AbstractGatewaySessionHandler.process runs
 * it for each entry: find or create the device (processFailure on error, the connection stays),
 * then `work`, which converts and charges the rate limits; a refusal there is E5.
 */
function perDevice(
  core: EmulatorCore,
  s: MqttSession,
  ack: AggregateAck,
  name: string,
  work: (dev: EmulatedDevice) => void,
  lookupFailCode?: number,
): void {
  const found = core.lookupSubDevice(s, name);
  if (!found.ok) return ack.fail(lookupFailCode ?? found.code);
  core.noteSubActivity(s, name);
  work(found.device);
}

function onTelemetry(core: EmulatorCore, s: MqttSession, p: IPublishPacket, root: unknown): void {
  if (!isObject(root)) return rejectStructural(s, p);
  // Non-array device values are dropped with a warning; none left is E2 (§4.5).
  const entries = Object.entries(root).filter((e): e is [string, unknown[]] => Array.isArray(e[1]));
  if (entries.length === 0) return rejectStructural(s, p);
  const ack = new AggregateAck(s, p, entries.length);
  // Each entry is one transportService.process call: one telemetry-message token plus its data
  // points, or one regular-message token when it carries none (DefaultTransportService).
  for (const [name, items] of entries) {
    perDevice(core, s, ack, name, (dev) => {
      // The plain-item timestamp is taken once per device entry (§4.5).
      const serverTs = Date.now();
      let records: TelemetryRecord[];
      try {
        records = items.map((it) => toTelemetryRecord(it, serverTs, true));
      } catch (err) {
        if (!(err instanceof ConversionError)) throw err;
        core.log.debug(`telemetry for ${name}: ${err.message}`);
        return conversionFailed(s, ack);
      }
      if (!core.charge(s, "sub", dataPoints(records))) {
        core.stats.rateLimitBreaches++;
        return rejectQuota(s, p, ack);
      }
      // An empty array yields zero records: its pack callback never fires, so the aggregated
      // PUBACK for the whole message never goes out (§3.1, §4.5).
      if (records.length === 0) return;
      core.store.addTelemetry(dev.id, records);
      core.events.emit("telemetry", name, records);
      ack.success();
    });
  }
}

function onAttributes(core: EmulatorCore, s: MqttSession, p: IPublishPacket, root: unknown): void {
  if (!isObject(root)) return rejectStructural(s, p);
  const entries = Object.entries(root).filter((e): e is [string, Record<string, unknown>] => isObject(e[1]));
  if (entries.length === 0) return rejectStructural(s, p);
  const ack = new AggregateAck(s, p, entries.length);
  for (const [name, attrs] of entries) {
    perDevice(core, s, ack, name, (dev) => {
      const kv = toKeyValues(attrs);
      // Client attributes are charged to the TELEMETRY buckets with their key count
      // (DefaultTransportService.process(PostAttributeMsg): checkLimits(..., msg.getKvCount())).
      if (!core.charge(s, "sub", Object.keys(kv).length)) {
        core.stats.rateLimitBreaches++;
        return rejectQuota(s, p, ack);
      }
      core.store.setAttributes(dev.id, "CLIENT_SCOPE", kv);
      core.events.emit("attributes", name, kv);
      ack.success();
    });
  }
}

/** Gson getAsInt: a number, or a numeric string. */
function readInt(v: unknown): number | undefined {
  if (typeof v === "number" && Number.isInteger(v)) return v;
  if (typeof v === "string" && /^-?\d+$/.test(v.trim())) return Number(v.trim());
  return undefined;
}

function onAttributesRequest(core: EmulatorCore, s: MqttSession, p: IPublishPacket, root: unknown): void {
  if (!isObject(root)) return rejectStructural(s, p);
  const id = readInt(root["id"]);
  const name = root["device"];
  const client = root["client"];
  const key = root["key"];
  const keys = root["keys"];
  // `key` wins over `keys`; a missing field is an NPE in ThingsBoard, i.e. E2 (§4.4).
  let requested: string[] | undefined;
  if (typeof key === "string") requested = [key];
  else if (key === undefined && Array.isArray(keys) && keys.every((k) => typeof k === "string")) {
    requested = [...new Set(keys as string[])];
  }
  if (id === undefined || typeof name !== "string" || typeof client !== "boolean" || !requested) {
    return rejectStructural(s, p);
  }
  const ack = new AggregateAck(s, p, 1);
  // A failed lookup answers 0x83 here, whatever the cause (processGetAttributeRequestMessage).
  perDevice(
    core,
    s,
    ack,
    name,
    (dev) => {
      if (!core.charge(s, "sub", 0)) {
        core.stats.rateLimitBreaches++;
        return rejectQuota(s, p, ack);
      }
      ack.success();
      s.publish(
        "v1/gateway/attributes/response",
        buildGatewayAttributeResponse(core.store, dev.id, id, name, client, requested),
      );
    },
    PUBACK.implementationSpecific,
  );
}

function onRpcReply(core: EmulatorCore, s: MqttSession, p: IPublishPacket, root: unknown): void {
  if (!isObject(root)) return rejectStructural(s, p);
  const name = root["device"];
  const id = readInt(root["id"]);
  // A missing `data` is an NPE (E2); `"data": null` is Gson's JsonNull, whose toString() is
  // "null", so it is a valid reply (onDeviceRpcResponseJson).
  if (typeof name !== "string" || id === undefined || !("data" in root)) {
    return rejectStructural(s, p);
  }
  const data = root["data"];
  const ack = new AggregateAck(s, p, 1);
  perDevice(core, s, ack, name, (dev) => {
    if (!core.charge(s, "sub", 0)) {
      core.stats.rateLimitBreaches++;
      return rejectQuota(s, p, ack);
    }
    // A reply to an unknown, expired or one-way id is stale and ignored (§4.6).
    const matched = core.rpc.complete(dev.id, id, { kind: "reply", data });
    if (!matched) core.log.debug(`stale rpc reply ${name}/${id}`);
    ack.success();
    core.events.emit("rpcReply", name, id, data);
  });
}

function onClaim(core: EmulatorCore, s: MqttSession, p: IPublishPacket, root: unknown): void {
  if (!isObject(root)) return rejectStructural(s, p);
  const entries = Object.entries(root).filter((e): e is [string, Record<string, unknown>] => isObject(e[1]));
  if (entries.length === 0) return rejectStructural(s, p);
  const ack = new AggregateAck(s, p, entries.length);
  // One regular-message token per device (DefaultTransportService.process(ClaimDeviceMsg)).
  for (const [name, c] of entries) {
    perDevice(core, s, ack, name, (dev) => {
      const secret = c["secretKey"] ?? "";
      const duration = c["durationMs"] ?? 0;
      if (typeof secret !== "string" || typeof duration !== "number") return conversionFailed(s, ack);
      if (!core.charge(s, "sub", 0)) {
        core.stats.rateLimitBreaches++;
        return rejectQuota(s, p, ack);
      }
      const durationMs = duration > 0 ? duration : DEFAULT_CLAIM_DURATION_MS;
      core.store.claim(dev.id, secret, durationMs);
      core.events.emit("claim", name, { secretKey: secret, durationMs });
      // The claim outcome is never reported to the gateway (§4.7).
      ack.success();
    });
  }
}
