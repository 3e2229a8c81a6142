// The limits the Sender works under: the configured in-flight window and rate limits, narrowed by what the
// server announced for this session (getSessionLimits, §3.6) once it answered.
import type { SenderLimits } from "./sender.ts";
import type { SessionLimits } from "./sessionLimits.ts";

export interface ConfiguredRateLimits {
  messages?: string | undefined;
  dataPoints?: string | undefined;
}

/** `session` is null until (or unless) the server answered getSessionLimits. */
export function senderLimitsFor(
  session: SessionLimits | null,
  maxInflight: number,
  config: ConfiguredRateLimits | undefined,
): SenderLimits {
  const l = session;
  // 20 % below the server's in-flight maximum, as with the payload size.
  const window = Math.min(maxInflight, l ? Math.max(1, Math.floor(l.maxInflightMessages * 0.8)) : maxInflight);
  return {
    window,
    gwMessages: l?.gatewayRateLimits.messages,
    gwTelemetryMessages: l?.gatewayRateLimits.telemetryMessages,
    gwDataPoints: l?.gatewayRateLimits.telemetryDataPoints,
    ownMessages: l?.rateLimits.messages,
    ownTelemetryMessages: l?.rateLimits.telemetryMessages,
    ownDataPoints: l?.rateLimits.telemetryDataPoints,
    configMessages: config?.messages,
    configDataPoints: config?.dataPoints,
  };
}
