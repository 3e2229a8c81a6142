// What one publish costs in ThingsBoard's transport rate limits, counted the way the server
// counts it (thingsboard/thingsboard):
// - AbstractGatewaySessionHandler processes a gateway message ENTRY BY ENTRY: every device entry
//   is its own transportService.process call.
// - DefaultTransportService.checkLimits -> DefaultTransportRateLimitService.checkEntityRateLimit:
//   a call with data points (telemetry; client attributes with their key count) takes one
//   telemetry-message token plus the points and NO regular-message token; any other call (an
//   attribute request, an RPC reply, a claim, a session event) takes one regular-message token.
// - A device that is not in the gateway session's map yet is first looked up
//   (GetOrCreateDeviceFromGatewayRequestMsg: one regular-message token), then its session is
//   opened with attribute and RPC subscriptions (one more) (getDeviceCreationFuture).
// - getSessionLimits is answered by MqttTransportHandler before any transportService call: free.
// All sub-device costs go to the gateway's sub-device limits (getSessionLimits
// "gatewayRateLimits"), the gateway's own topics to its own limits ("rateLimits").
import { isObject, parseJson } from "../util/json.ts";
import { TOPIC } from "./protocol.ts";

export interface PublishCost {
  gwMsg: number;
  gwTel: number;
  gwDp: number;
  ownMsg: number;
  ownTel: number;
  ownDp: number;
}

/** Tokens a device not yet in the server's session map costs on first use: lookup + session open. */
export const NEW_DEVICE_MESSAGES = 2;

const NONE: PublishCost = { gwMsg: 0, gwTel: 0, gwDp: 0, ownMsg: 0, ownTel: 0, ownDp: 0 };

/** The device names a gateway publish names (entries, or its `device` field); [] for own topics. */
export function devicesOf(topic: string, payload: string): string[] {
  if (!topic.startsWith("v1/gateway/")) return [];
  const p = parseJson(payload);
  if (!p.ok || !isObject(p.value)) return [];
  const v = p.value;
  if (topic === TOPIC.gwTelemetry || topic === TOPIC.gwAttributes || topic === TOPIC.gwClaim) return Object.keys(v);
  return typeof v.device === "string" ? [v.device] : [];
}

/**
 * The cost of one publish. `entries` is the number of device entries (telemetry, attributes,
 * claim), `points` the data points (telemetry) or keys (attributes), `newDevices` how many of
 * its devices the server has not got in this session yet.
 */
export function costOf(topic: string, points: number, entries: number, newDevices: number, payload = ""): PublishCost {
  const lookups = NEW_DEVICE_MESSAGES * newDevices;
  switch (topic) {
    case TOPIC.gwTelemetry:
    case TOPIC.gwAttributes:
      // Our payload builder never writes an entry without data points.
      return { ...NONE, gwTel: entries, gwDp: points, gwMsg: lookups };
    case TOPIC.gwClaim:
      return { ...NONE, gwMsg: entries + lookups };
    case TOPIC.gwAttributesRequest:
    case TOPIC.gwRpc:
      return { ...NONE, gwMsg: 1 + lookups };
    case TOPIC.gwConnect:
      return { ...NONE, gwMsg: lookups };
    case TOPIC.gwDisconnect:
      // SESSION CLOSED for a device in the session; refused silently, but it takes a token.
      return { ...NONE, gwMsg: 1 };
    case TOPIC.meTelemetry:
    case TOPIC.meAttributes:
      return points > 0 ? { ...NONE, ownTel: 1, ownDp: points } : { ...NONE, ownMsg: 1 };
    default:
      if (topic.startsWith(TOPIC.meRpcRequestPrefix) && payload.includes('"getSessionLimits"')) return NONE;
      return { ...NONE, ownMsg: 1 };
  }
}
