// The v1/gateway/* topics of a gateway session (reference §4; AbstractGatewaySessionHandler).
// Every handler validates the payload first (E1/E2), then does the per-device work with one
// aggregated PUBACK for the whole message.
import type { IPublishPacket } from "mqtt-packet";
import { isObject, parseJson } from "../../server/util/json.ts";
import { PUBACK, rejectConversion, rejectMalformed, rejectQuota, rejectStructural } from "./acks.ts";
import type { EmulatorCore } from "./core.ts";
import { DEFAULT_CLAIM_DURATION_MS, type TelemetryRecord } from "./model.ts";
import type { MqttSession } from "./session.ts";
import { buildGatewayAttributeResponse } from "./attributeResponses.ts";
import { ConversionError, dataPoints, toKeyValues, toTelemetryRecord } from "./values.ts";

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
  core.connectSubDevice(s, name, type);
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

function onTelemetry(core: EmulatorCore, s: MqttSession, p: IPublishPacket, root: unknown): void {
  if (!isObject(root)) return rejectStructural(s, p);
  // Non-array device values are dropped with a warning; none left is E2 (§4.5).
  const entries = Object.entries(root).filter((e): e is [string, unknown[]] => Array.isArray(e[1]));
  if (entries.length === 0) return rejectStructural(s, p);
  const perDevice: Array<[string, TelemetryRecord[]]> = [];
  for (const [name, items] of entries) {
    // The plain-item timestamp is taken once per device entry (§4.5).
    const serverTs = Date.now();
    try {
      perDevice.push([name, items.map((it) => toTelemetryRecord(it, serverTs, true))]);
    } catch (err) {
      if (!(err instanceof ConversionError)) throw err;
      core.log.debug(`telemetry for ${name}: ${err.message}`);
      return rejectConversion(s, p);
    }
  }
  let neverAcked = false;
  for (const [name, records] of perDevice) {
    if (!core.allowSub(s, true, dataPoints(records))) return rejectQuota(s, p);
    const dev = core.connectSubDevice(s, name);
    // An empty array yields zero records: its pack callback never fires, so the aggregated
    // PUBACK for the whole message never goes out (§3.1, §4.5).
    if (records.length === 0) {
      neverAcked = true;
      continue;
    }
    core.store.addTelemetry(dev.id, records);
    core.events.emit("telemetry", name, records);
  }
  if (!neverAcked) s.puback(p);
}

function onAttributes(core: EmulatorCore, s: MqttSession, p: IPublishPacket, root: unknown): void {
  if (!isObject(root)) return rejectStructural(s, p);
  const entries = Object.entries(root).filter((e): e is [string, Record<string, unknown>] => isObject(e[1]));
  if (entries.length === 0) return rejectStructural(s, p);
  for (const [name, attrs] of entries) {
    const kv = toKeyValues(attrs);
    if (!core.allowSub(s, false, 0)) return rejectQuota(s, p);
    const dev = core.connectSubDevice(s, name);
    core.store.setAttributes(dev.id, "CLIENT_SCOPE", kv);
    core.events.emit("attributes", name, kv);
  }
  s.puback(p);
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
  if (!core.allowSub(s, false, 0)) return rejectQuota(s, p);
  const dev = core.connectSubDevice(s, name);
  s.puback(p);
  s.publish("v1/gateway/attributes/response", buildGatewayAttributeResponse(core.store, dev.id, id, name, client, requested));
}

function onRpcReply(core: EmulatorCore, s: MqttSession, p: IPublishPacket, root: unknown): void {
  if (!isObject(root)) return rejectStructural(s, p);
  const name = root["device"];
  const id = readInt(root["id"]);
  if (typeof name !== "string" || id === undefined || !("data" in root) || root["data"] === null) {
    return rejectStructural(s, p);
  }
  if (!core.allowSub(s, false, 0)) return rejectQuota(s, p);
  const dev = core.connectSubDevice(s, name);
  const data = root["data"];
  // A reply to an unknown, expired or one-way id is stale and ignored (§4.6).
  const matched = core.rpc.complete(dev.id, id, { kind: "reply", data });
  if (!matched) core.log.debug(`stale rpc reply ${name}/${id}`);
  s.puback(p);
  core.events.emit("rpcReply", name, id, data);
}

function onClaim(core: EmulatorCore, s: MqttSession, p: IPublishPacket, root: unknown): void {
  if (!isObject(root)) return rejectStructural(s, p);
  const entries = Object.entries(root).filter((e): e is [string, Record<string, unknown>] => isObject(e[1]));
  if (entries.length === 0) return rejectStructural(s, p);
  const claims: Array<[string, string, number]> = [];
  for (const [name, c] of entries) {
    const secret = c["secretKey"] ?? "";
    const duration = c["durationMs"] ?? 0;
    if (typeof secret !== "string" || typeof duration !== "number") return rejectConversion(s, p);
    claims.push([name, secret, duration > 0 ? duration : DEFAULT_CLAIM_DURATION_MS]);
  }
  for (const [name, secretKey, durationMs] of claims) {
    if (!core.allowSub(s, false, 0)) return rejectQuota(s, p);
    const dev = core.connectSubDevice(s, name);
    core.store.claim(dev.id, secretKey, durationMs);
    core.events.emit("claim", name, { secretKey, durationMs });
  }
  // The claim outcome is never reported to the gateway (§4.7).
  s.puback(p);
}
