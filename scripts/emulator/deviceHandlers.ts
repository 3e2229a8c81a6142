// The device API of a session's own device, i.e. "me" (reference §3; processDevicePublish).
// A gateway uses it for its own telemetry, attributes, RPC and getSessionLimits.
import type { IPublishPacket } from "mqtt-packet";
import { isObject, parseJson } from "./json.ts";
import { PUBACK, rejectDevicePath, rejectMalformed } from "./acks.ts";
import { buildDeviceAttributeResponse } from "./attributeResponses.ts";
import type { EmulatorCore } from "./core.ts";
import { DEFAULT_CLAIM_DURATION_MS } from "./model.ts";
import { describeLimits } from "./rateLimits.ts";
import { handleOtaRequest, isOtaRequest } from "./ota.ts";
import { DISCONNECT, type MqttSession } from "./session.ts";
import { ConversionError, dataPoints, toKeyValues, toTelemetryRecords } from "./values.ts";

const ATTR_REQUEST = /^v1\/devices\/me\/attributes\/request\/(.+)$/;
const RPC_RESPONSE = /^v1\/devices\/me\/rpc\/response\/(.+)$/;
const RPC_REQUEST = /^v1\/devices\/me\/rpc\/request\/(.+)$/;

/** Integer.parseInt of a topic suffix; undefined when Java would throw. */
function parseRequestId(suffix: string): number | undefined {
  if (!/^[-+]?\d+$/.test(suffix)) return undefined;
  const n = Number(suffix);
  return n >= -2147483648 && n <= 2147483647 ? n : undefined;
}

export function handleDevicePublish(core: EmulatorCore, s: MqttSession, p: IPublishPacket, payload: Buffer): void {
  const t = p.topic;
  if (t === "v1/devices/me/telemetry") return onTelemetry(core, s, p, payload);
  if (t === "v1/devices/me/attributes") return onAttributes(core, s, p, payload);
  let m = ATTR_REQUEST.exec(t);
  if (m) return onAttributesRequest(core, s, p, payload, m[1] ?? "");
  if ((m = RPC_RESPONSE.exec(t))) return onRpcResponse(core, s, p, payload, m[1] ?? "");
  if ((m = RPC_REQUEST.exec(t))) return onClientRpc(core, s, p, payload, m[1] ?? "");
  if (t === "v1/devices/me/claim") return onClaim(core, s, p, payload);
  // OTA chunk requests (ota.ts; MqttTransportHandler.getOtaPackageCallback).
  if (isOtaRequest(t)) return handleOtaRequest(core, s, p, payload);
  // Unknown topic: 0x90 and the session stays open.
  s.puback(p, PUBACK.topicNameInvalid);
}

function parseRoot(payload: Buffer): unknown {
  const r = parseJson(payload);
  return r.ok ? r.value : undefined;
}

function onTelemetry(core: EmulatorCore, s: MqttSession, p: IPublishPacket, payload: Buffer): void {
  const root = parseRoot(payload);
  if (!isObject(root) && !Array.isArray(root)) return rejectMalformed(s, p);
  let records;
  try {
    records = toTelemetryRecords(root, Date.now());
  } catch (err) {
    if (!(err instanceof ConversionError)) throw err;
    // A bad ts is an unwrapped NumberFormatException in ThingsBoard: Netty closes with 0x8B.
    if (err.message.startsWith("ts ")) return s.close(DISCONNECT.serverShuttingDown, true);
    return rejectMalformed(s, p);
  }
  if (!core.charge(s, "own", dataPoints(records))) return rejectDevicePath(s);
  // `[]` yields no records and so never a PUBACK (§3.1).
  if (records.length === 0 || !s.device) return;
  core.store.addTelemetry(s.device.id, records);
  s.puback(p);
  core.events.emit("telemetry", s.device.name, records);
}

function onAttributes(core: EmulatorCore, s: MqttSession, p: IPublishPacket, payload: Buffer): void {
  const root = parseRoot(payload);
  if (!isObject(root)) return rejectMalformed(s, p);
  if (!s.device) return;
  const kv = toKeyValues(root);
  // Client attributes take the telemetry buckets with their key count (DefaultTransportService).
  if (!core.charge(s, "own", Object.keys(kv).length)) return rejectDevicePath(s);
  core.store.setAttributes(s.device.id, "CLIENT_SCOPE", kv);
  s.puback(p);
  core.events.emit("attributes", s.device.name, kv);
}

function onAttributesRequest(
  core: EmulatorCore,
  s: MqttSession,
  p: IPublishPacket,
  payload: Buffer,
  suffix: string,
): void {
  const id = parseRequestId(suffix);
  const root = parseRoot(payload);
  if (id === undefined || !isObject(root)) return rejectMalformed(s, p);
  if (!core.charge(s, "own", 0)) return rejectDevicePath(s);
  if (!s.device) return;
  s.puback(p);
  s.publish(`v1/devices/me/attributes/response/${id}`, buildDeviceAttributeResponse(core.store, s.device.id, root));
}

function onRpcResponse(core: EmulatorCore, s: MqttSession, p: IPublishPacket, payload: Buffer, suffix: string): void {
  const id = parseRequestId(suffix);
  if (id === undefined) return rejectMalformed(s, p);
  if (!core.charge(s, "own", 0)) return rejectDevicePath(s);
  if (!s.device) return;
  // The reply is taken as raw text; the REST layer parses it (406 when it is not JSON, §3.5).
  const text = payload.toString("utf8");
  core.rpc.complete(s.device.id, id, { kind: "rawReply", text });
  s.puback(p);
  const parsed = parseJson(text);
  core.events.emit("rpcReply", s.device.name, id, parsed.ok ? parsed.value : text);
}

function onClientRpc(core: EmulatorCore, s: MqttSession, p: IPublishPacket, payload: Buffer, suffix: string): void {
  const id = parseRequestId(suffix);
  const root = parseRoot(payload);
  if (id === undefined || !isObject(root)) return rejectMalformed(s, p);
  const method = root["method"];
  // A missing method is an unwrapped NPE in ThingsBoard, which closes the connection (§3.6).
  if (typeof method !== "string") return s.close(DISCONNECT.serverShuttingDown, true);
  // getSessionLimits is answered by the transport before any transportService call, so it is
  // not charged (MqttTransportHandler.processDevicePublish -> onGetSessionLimitsRpc).
  if (method !== "getSessionLimits" && !core.charge(s, "own", 0)) return rejectDevicePath(s);
  s.puback(p);
  const responseTopic = `v1/devices/me/rpc/response/${id}`;
  if (method === "getSessionLimits") {
    // Answered by the transport itself, after the PUBACK (onGetSessionLimitsRpc).
    const limits: Record<string, unknown> = {
      maxPayloadSize: core.config.maxPayloadSize,
      maxInflightMessages: core.config.maxInflightMessages,
      rateLimits: describeLimits(core.config.rateLimits),
    };
    if (s.gateway) limits["gatewayRateLimits"] = describeLimits(core.config.gatewayRateLimits);
    return s.publish(responseTopic, limits);
  }
  core.events.emit("clientRpc", s.device?.name, id, method, root["params"]);
  // The default rule chain has no "RPC Call Reply" node, so the transport's timeout answers.
  s.later(core.config.clientRpcTimeoutMs, () => s.publish(responseTopic, { error: "timeout" }));
}

function onClaim(core: EmulatorCore, s: MqttSession, p: IPublishPacket, payload: Buffer): void {
  // An empty payload is allowed: secretKey "" and the default duration (§3.7).
  const root = payload.length === 0 ? {} : parseRoot(payload);
  if (!isObject(root)) return rejectMalformed(s, p);
  const secret = root["secretKey"] ?? "";
  const duration = root["durationMs"] ?? 0;
  if (typeof secret !== "string" || typeof duration !== "number") return rejectMalformed(s, p);
  if (!core.charge(s, "own", 0)) return rejectDevicePath(s);
  if (!s.device) return;
  const durationMs = duration > 0 ? duration : DEFAULT_CLAIM_DURATION_MS;
  core.store.claim(s.device.id, secret, durationMs);
  s.puback(p);
  core.events.emit("claim", s.device.name, { secretKey: secret, durationMs });
}
