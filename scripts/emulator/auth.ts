// CONNECT resolution and the CONNACK refusal codes of reference §1.1/§1.2
// (MqttTransportHandler.processConnect, ReturnCodeResolver.getConnectionReturnCode).
import type { DeviceStore, EmulatedDevice } from "./model.ts";

export type ConnectDecision =
  | { ok: true; kind: "provision" }
  | { ok: true; kind: "device"; device: EmulatedDevice }
  | { ok: false; v5Code: number; v3Code: number; reason: string };

export const CONNACK_V5 = {
  clientIdentifierNotValid: 0x85,
  badUserNameOrPassword: 0x86,
  notAuthorized: 0x87,
} as const;

export const CONNACK_V3 = {
  identifierRejected: 2,
  notAuthorized: 5,
} as const;

export interface ConnectCredentials {
  clientId: string;
  username?: string;
  password?: Buffer;
}

export function decideConnect(store: DeviceStore, c: ConnectCredentials): ConnectDecision {
  // Provisioning is recognised before any credential check (§1.1).
  if (c.username === "provision" || c.clientId === "provision") return { ok: true, kind: "provision" };
  const password = c.password === undefined ? undefined : c.password.toString("utf8");
  const device = store.authenticate(c.clientId, c.username || undefined, password);
  if (device) return { ok: true, kind: "device", device };
  // No device found: the code depends only on which fields were present (§1.2 table).
  const hasUser = c.username !== undefined;
  const hasPassword = c.password !== undefined;
  if (hasUser || hasPassword) {
    return {
      ok: false,
      v5Code: CONNACK_V5.badUserNameOrPassword,
      v3Code: CONNACK_V3.notAuthorized,
      reason: "bad credentials",
    };
  }
  if (c.clientId.trim().length > 0) {
    return {
      ok: false,
      v5Code: CONNACK_V5.clientIdentifierNotValid,
      v3Code: CONNACK_V3.identifierRejected,
      reason: "unknown clientId",
    };
  }
  return { ok: false, v5Code: CONNACK_V5.notAuthorized, v3Code: CONNACK_V3.notAuthorized, reason: "no credentials" };
}
