// The error classes of reference §4.0 (E1-E5) and the device-path equivalents (§3.1), as
// PUBACK reason codes and closes. On 3.x a reason code cannot travel, so an "error PUBACK" looks
// like success there; that is ThingsBoard's behaviour, reproduced on purpose.
import type { IPublishPacket } from "mqtt-packet";
import { DISCONNECT, type MqttSession } from "./session.ts";

export const PUBACK = {
  success: 0x00,
  unspecified: 0x80,
  implementationSpecific: 0x83,
  topicNameInvalid: 0x90,
  quotaExceeded: 0x97,
  payloadFormatInvalid: 0x99,
} as const;

/**
 * E1 / device-path AdaptorException: malformed JSON or a wrong root. QoS >= 1 on v5 gets PUBACK
 * 0x99 and the session stays; otherwise the connection closes (DISCONNECT 0x99 on v5).
 */
export function rejectMalformed(s: MqttSession, p: IPublishPacket): void {
  if (p.qos >= 1 && s.v5) s.puback(p, PUBACK.payloadFormatInvalid);
  else s.close(DISCONNECT.payloadFormatInvalid, true);
}

/** E2: structural error before any per-device work: PUBACK 0x83, then always close. */
export function rejectStructural(s: MqttSession, p: IPublishPacket): void {
  s.puback(p, PUBACK.implementationSpecific);
  s.close(DISCONNECT.implementationSpecific, true);
}

/** E3: per-device conversion error: v5 PUBACK 0x99 (session stays); 3.x closes with no PUBACK. */
export function rejectConversion(s: MqttSession, p: IPublishPacket): void {
  if (s.v5) s.puback(p, PUBACK.payloadFormatInvalid);
  else s.close(undefined, true);
}

/**
 * E5: sub-device rate limit: PUBACK 0x97, then the channel is closed with ctx.close(), which
 * sends no DISCONNECT, on v5 either (AbstractGatewaySessionHandler.getAggregatePubAckCallback
 * onError). ThingsBoard then tries to publish v1/gateway/disconnect {"device","reason":150} on
 * v5, but the channel is already closing so it is lost; we do not send it. Only the first
 * failure of a message answers (ackSent).
 */
export function rejectQuota(s: MqttSession, p: IPublishPacket, ack: AggregateAck): void {
  ack.fail(PUBACK.quotaExceeded);
  s.close(undefined, true);
}

/**
 * One PUBACK for a message that carries several devices (getAggregatePubAckCallback): SUCCESS
 * once every entry was accepted, or the first failure's code (ackSent). An entry that never
 * completes (an empty telemetry array) means no PUBACK at all.
 */
export class AggregateAck {
  private sent = false;
  constructor(
    private readonly s: MqttSession,
    private readonly p: IPublishPacket,
    private remaining: number,
  ) {}

  success(): void {
    if (--this.remaining === 0 && !this.sent) {
      this.sent = true;
      this.s.puback(this.p);
    }
  }

  fail(code: number): void {
    if (this.sent) return;
    this.sent = true;
    this.s.puback(this.p, code);
  }
}

/**
 * Device-path transport failure such as the device's own rate limit: close with 0x83 and no
 * PUBACK (getPubAckCallback.onError, §3).
 */
export function rejectDevicePath(s: MqttSession): void {
  s.close(DISCONNECT.implementationSpecific, true);
}
