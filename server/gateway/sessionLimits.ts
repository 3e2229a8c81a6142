// getSessionLimits (a client-side RPC answered by the transport itself, §3.6): the payload
// size, in-flight window and rate limits this session must respect.
import { isInteger, isObject } from "../util/json.ts";

export interface RateLimitSpec {
  messages?: string;
  telemetryMessages?: string;
  telemetryDataPoints?: string;
}

export interface SessionLimits {
  maxPayloadSize: number;
  maxInflightMessages: number;
  /** Limits on the gateway device's own messages. */
  rateLimits: RateLimitSpec;
  /** Limits shared by all sub-device traffic of this gateway. */
  gatewayRateLimits: RateLimitSpec;
}

function specOf(v: unknown): RateLimitSpec {
  const out: RateLimitSpec = {};
  if (!isObject(v)) return out;
  for (const k of ["messages", "telemetryMessages", "telemetryDataPoints"] as const) {
    if (typeof v[k] === "string" && v[k]) out[k] = v[k] as string;
  }
  return out;
}

/** Returns null for an error reply ({"error":"timeout"}) or a payload that is not limits. */
export function parseSessionLimits(v: unknown): SessionLimits | null {
  if (!isObject(v) || "error" in v) return null;
  if (!isInteger(v.maxPayloadSize) || v.maxPayloadSize <= 0) return null;
  return {
    maxPayloadSize: v.maxPayloadSize,
    maxInflightMessages: isInteger(v.maxInflightMessages) && v.maxInflightMessages > 0 ? v.maxInflightMessages : 100,
    rateLimits: specOf(v.rateLimits),
    gatewayRateLimits: specOf(v.gatewayRateLimits),
  };
}
