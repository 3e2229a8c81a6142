// The ThingsBoard MQTT wire protocol as types: each topic mapped to its payload type, plus
// non-throwing parsers for everything the server can send us. Facts from
// shared/reference/thingsboard-server-behaviour.md (sections 3 and 4).
import { isInteger, isNonEmptyString, isObject, parseJson } from "../util/json.ts";
import type { Reading, ReadingValue, ReadingValues } from "../readings.ts";

export const TOPIC = {
  gwConnect: "v1/gateway/connect",
  gwDisconnect: "v1/gateway/disconnect",
  gwTelemetry: "v1/gateway/telemetry",
  gwAttributes: "v1/gateway/attributes",
  gwAttributesRequest: "v1/gateway/attributes/request",
  gwAttributesResponse: "v1/gateway/attributes/response",
  gwRpc: "v1/gateway/rpc",
  gwClaim: "v1/gateway/claim",
  meTelemetry: "v1/devices/me/telemetry",
  meAttributes: "v1/devices/me/attributes",
  meAttributesRequestPrefix: "v1/devices/me/attributes/request/",
  meAttributesResponsePrefix: "v1/devices/me/attributes/response/",
  meRpcRequestPrefix: "v1/devices/me/rpc/request/",
  meRpcResponsePrefix: "v1/devices/me/rpc/response/",
  meClaim: "v1/devices/me/claim",
  provisionRequest: "/provision/request",
  provisionResponse: "/provision/response",
} as const;

/** The exact filters ThingsBoard accepts (§3.10); anything else is refused, so never subscribe wider. */
export const GATEWAY_SUBSCRIPTIONS = [
  TOPIC.meAttributes,
  `${TOPIC.meAttributesResponsePrefix}+`,
  `${TOPIC.meRpcRequestPrefix}+`,
  `${TOPIC.meRpcResponsePrefix}+`,
  TOPIC.gwAttributes,
  TOPIC.gwAttributesResponse,
  TOPIC.gwRpc,
  // The appliance's own OTA updates (features/ota): chunks, and errors, which ThingsBoard sends
  // on v2/fw/error for software too (MqttTransportHandler.sendOtaPackageError).
  "v2/sw/response/+/chunk/+",
  "v2/fw/error",
  "v2/sw/error",
] as const;

/** OTA topics: handled by the updater on its own connection listener, not by the bridge. */
export function isOtaTopic(topic: string): boolean {
  return topic.startsWith("v2/sw/") || topic.startsWith("v2/fw/");
}

// The wire names of the domain's readings (server/readings.ts): the same shapes, as ThingsBoard's
// Gateway API document names them.
export type TbValue = ReadingValue;
export type KeyValues = ReadingValues;
export type TsRecord = Reading;

// ---- gateway -> server ----
export interface GwConnectMsg {
  device: string;
  type?: string;
}
export interface GwDisconnectMsg {
  device: string;
}
export type GwTelemetryMsg = Record<string, TsRecord[]>;
export type GwAttributesMsg = Record<string, KeyValues>;
export type GwAttributesRequestMsg =
  | { id: number; device: string; client: boolean; key: string }
  | { id: number; device: string; client: boolean; keys: string[] };
export interface GwRpcReplyMsg {
  device: string;
  id: number;
  data: unknown;
}
export type GwClaimMsg = Record<string, { secretKey?: string; durationMs?: number }>;
export interface ProvisionRequestMsg {
  provisionDeviceKey: string;
  provisionDeviceSecret: string;
  deviceName?: string;
  gateway?: boolean;
  credentialsType?: "ACCESS_TOKEN" | "MQTT_BASIC" | "X509_CERTIFICATE";
  token?: string;
}

/** Topic -> payload the gateway publishes. Topics that end in a request id are keyed by their
 *  prefix (`TOPIC.me*Prefix`). */
export interface OutboundTopics {
  "v1/gateway/connect": GwConnectMsg;
  "v1/gateway/disconnect": GwDisconnectMsg;
  "v1/gateway/telemetry": GwTelemetryMsg;
  "v1/gateway/attributes": GwAttributesMsg;
  "v1/gateway/attributes/request": GwAttributesRequestMsg;
  "v1/gateway/rpc": GwRpcReplyMsg;
  "v1/gateway/claim": GwClaimMsg;
  "v1/devices/me/telemetry": TsRecord[] | KeyValues;
  "v1/devices/me/attributes": KeyValues;
  "v1/devices/me/rpc/request/": MeClientRpcMsg;
  "v1/devices/me/rpc/response/": unknown;
  "v1/devices/me/attributes/request/": MeAttributesRequestMsg;
}
export interface MeClientRpcMsg {
  method: string;
  params: unknown;
}
export interface MeAttributesRequestMsg {
  clientKeys?: string;
  sharedKeys?: string;
}

/** The payload text for `topic` (or a prefixed topic's prefix): every outbound shape goes through
 *  here, so a payload that does not match its topic's type does not compile. */
export function encodeOutbound<T extends keyof OutboundTopics>(_topic: T, msg: OutboundTopics[T]): string {
  return JSON.stringify(msg);
}

// ---- server -> gateway ----
export interface GwRpcRequest {
  device: string;
  id: number;
  method: string;
  params: unknown;
}
export interface GwAttributeUpdate {
  device: string;
  data: Record<string, unknown>;
  deleted?: string[];
}
export interface GwAttributeResponse {
  id: number;
  device: string;
  value?: unknown;
  values?: Record<string, unknown>;
  hasValue: boolean;
  hasValues: boolean;
}
export interface GwDisconnectNotice {
  device: string;
  reason: number;
}
export interface MeRpcRequest {
  requestId: number;
  method: string;
  params: unknown;
}
export interface MeAttributeResponse {
  requestId: number;
  client: Record<string, unknown>;
  shared: Record<string, unknown>;
}
export interface MeRpcResponse {
  requestId: number;
  payload: unknown;
}
export interface ProvisionResponse {
  status: string;
  credentialsType?: string;
  credentialsValue?: unknown;
  errorMsg?: string;
}

export type Inbound =
  | { kind: "gwRpc"; msg: GwRpcRequest }
  | { kind: "gwAttributeUpdate"; msg: GwAttributeUpdate }
  | { kind: "gwAttributeResponse"; msg: GwAttributeResponse }
  | { kind: "gwDisconnect"; msg: GwDisconnectNotice }
  | { kind: "meRpcRequest"; msg: MeRpcRequest }
  | { kind: "meAttributeUpdate"; msg: { data: Record<string, unknown>; deleted?: string[] } }
  | { kind: "meAttributeResponse"; msg: MeAttributeResponse }
  | { kind: "meRpcResponse"; msg: MeRpcResponse }
  | { kind: "provisionResponse"; msg: ProvisionResponse };

export type InboundResult = { ok: true; value: Inbound } | { ok: false; error: string };

const fail = (error: string): InboundResult => ({ ok: false, error });

function suffixId(topic: string, prefix: string): number | undefined {
  const s = topic.slice(prefix.length);
  if (!/^\d{1,9}$/.test(s)) return undefined;
  return Number(s);
}

/** Parse and validate a message the server sent. Never throws. */
export function parseInbound(topic: string, payload: Buffer | string): InboundResult {
  const parsed = parseJson(payload);
  if (!parsed.ok) return fail(`${topic}: ${parsed.error}`);
  const v = parsed.value;

  switch (topic) {
    case TOPIC.gwRpc: {
      // {"device":"A","data":{"id":0,"method":"m","params":{}}}
      if (!isObject(v) || !isNonEmptyString(v.device)) return fail("gateway RPC: missing device");
      // A message with "id" at the top level is a reply we published (echo from a plain broker).
      if (!isObject(v.data)) return fail("gateway RPC: missing data object");
      const d = v.data;
      if (!isInteger(d.id) || d.id < 0) return fail("gateway RPC: data.id must be a non-negative integer");
      if (!isNonEmptyString(d.method)) return fail("gateway RPC: data.method must be a non-empty string");
      return {
        ok: true,
        value: { kind: "gwRpc", msg: { device: v.device, id: d.id, method: d.method, params: d.params ?? null } },
      };
    }
    case TOPIC.gwAttributes: {
      if (!isObject(v) || !isNonEmptyString(v.device) || !isObject(v.data))
        return fail("gateway attribute update: expected {device, data}");
      const data = { ...v.data };
      let deleted: string[] | undefined;
      if (Array.isArray(data.deleted) && data.deleted.every((k) => typeof k === "string")) {
        deleted = data.deleted as string[];
        delete data.deleted;
      }
      return {
        ok: true,
        value: {
          kind: "gwAttributeUpdate",
          msg: deleted ? { device: v.device, data, deleted } : { device: v.device, data },
        },
      };
    }
    case TOPIC.gwAttributesResponse: {
      if (!isObject(v) || !isNonEmptyString(v.device)) return fail("attribute response: missing device");
      const id = typeof v.id === "string" && /^\d+$/.test(v.id) ? Number(v.id) : v.id;
      if (!isInteger(id)) return fail("attribute response: missing id");
      const hasValues = isObject(v.values);
      const msg: GwAttributeResponse = { id, device: v.device, hasValue: "value" in v, hasValues };
      if ("value" in v) msg.value = v.value;
      if (hasValues) msg.values = v.values as Record<string, unknown>;
      return { ok: true, value: { kind: "gwAttributeResponse", msg } };
    }
    case TOPIC.gwDisconnect: {
      if (!isObject(v) || !isNonEmptyString(v.device)) return fail("disconnect notice: missing device");
      return {
        ok: true,
        value: { kind: "gwDisconnect", msg: { device: v.device, reason: isInteger(v.reason) ? v.reason : 0 } },
      };
    }
    case TOPIC.meAttributes: {
      if (!isObject(v)) return fail("attribute update: expected an object");
      const data = { ...v };
      let deleted: string[] | undefined;
      if (Array.isArray(data.deleted) && data.deleted.every((k) => typeof k === "string")) {
        deleted = data.deleted as string[];
        delete data.deleted;
      }
      return { ok: true, value: { kind: "meAttributeUpdate", msg: deleted ? { data, deleted } : { data } } };
    }
    default:
      break;
  }

  if (topic.startsWith(TOPIC.meRpcRequestPrefix)) {
    const requestId = suffixId(topic, TOPIC.meRpcRequestPrefix);
    if (requestId === undefined) return fail(`bad RPC request topic ${topic}`);
    if (!isObject(v) || !isNonEmptyString(v.method)) return fail("gateway-device RPC: missing method");
    return {
      ok: true,
      value: { kind: "meRpcRequest", msg: { requestId, method: v.method, params: v.params ?? null } },
    };
  }
  if (topic.startsWith(TOPIC.meAttributesResponsePrefix)) {
    const requestId = suffixId(topic, TOPIC.meAttributesResponsePrefix);
    if (requestId === undefined) return fail(`bad attribute response topic ${topic}`);
    if (!isObject(v)) return fail("attribute response: expected an object");
    const client = isObject(v.client) ? v.client : {};
    const shared = isObject(v.shared) ? v.shared : {};
    return { ok: true, value: { kind: "meAttributeResponse", msg: { requestId, client, shared } } };
  }
  if (topic.startsWith(TOPIC.meRpcResponsePrefix)) {
    const requestId = suffixId(topic, TOPIC.meRpcResponsePrefix);
    if (requestId === undefined) return fail(`bad RPC response topic ${topic}`);
    return { ok: true, value: { kind: "meRpcResponse", msg: { requestId, payload: v } } };
  }
  if (topic === TOPIC.provisionResponse) {
    if (!isObject(v) || typeof v.status !== "string") return fail("provision response: missing status");
    const msg: ProvisionResponse = { status: v.status };
    if (typeof v.credentialsType === "string") msg.credentialsType = v.credentialsType;
    if (v.credentialsValue !== undefined) msg.credentialsValue = v.credentialsValue;
    if (typeof v.errorMsg === "string") msg.errorMsg = v.errorMsg;
    return { ok: true, value: { kind: "provisionResponse", msg } };
  }
  return fail(`unexpected topic ${topic}`);
}
