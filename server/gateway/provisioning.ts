// Self-provisioning through ThingsBoard's MQTT provisioning API (§3.8): with a provision key
// and secret in the config and no credentials yet, the unit asks ThingsBoard to create it as a
// gateway device, stores the credentials it receives (mode 0600, atomically) and connects with
// them. One image flashed to many Pis thus gives every unit its own device and token.
import { chmodSync, existsSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import mqtt from "mqtt";
import { isObject, parseJson } from "../util/json.ts";
import type { Logger } from "../util/logger.ts";
import { parseInbound, TOPIC, type ProvisionRequestMsg } from "./protocol.ts";

export interface StoredCredentials {
  deviceName: string;
  accessToken?: string;
  clientId?: string;
  username?: string;
  password?: string;
  provisionedAt: number;
}

export class ProvisionError extends Error {
  readonly status: string;
  constructor(status: string, message: string) {
    super(message);
    this.name = "ProvisionError";
    this.status = status;
  }
}

export function loadCredentials(file: string, log: Logger): StoredCredentials | null {
  if (!existsSync(file)) return null;
  const p = parseJson(readFileSync(file, "utf8"));
  const v = p.ok ? p.value : null;
  if (
    isObject(v) &&
    typeof v.deviceName === "string" &&
    (typeof v.accessToken === "string" || typeof v.username === "string" || typeof v.clientId === "string")
  ) {
    return v as unknown as StoredCredentials;
  }
  const aside = `${file}.corrupt-${Date.now()}`;
  renameSync(file, aside);
  log.error(`stored credentials in ${file} are unreadable; moved to ${aside} and provisioning again`);
  return null;
}

export function saveCredentials(file: string, creds: StoredCredentials): void {
  const tmp = `${file}.tmp`;
  writeFileSync(tmp, JSON.stringify(creds, null, 2), { mode: 0o600 });
  chmodSync(tmp, 0o600);
  renameSync(tmp, file);
}

export interface ProvisionOptions {
  host: string;
  port: number;
  mqttVersion: 4 | 5;
  key: string;
  secret: string;
  deviceName: string;
  tls?: { enabled: boolean; ca?: Buffer | undefined; rejectUnauthorized: boolean };
  timeoutMs?: number;
}

/** One provisioning attempt. Resolves with the credentials, rejects with a ProvisionError or a network error. */
export async function provisionGateway(o: ProvisionOptions): Promise<StoredCredentials> {
  const client = mqtt.connect({
    host: o.host,
    port: o.port,
    protocol: o.tls?.enabled ? "mqtts" : "mqtt",
    protocolVersion: o.mqttVersion,
    username: "provision",
    clean: true,
    reconnectPeriod: 0,
    connectTimeout: 10_000,
    ...(o.tls?.ca ? { ca: o.tls.ca } : {}),
    ...(o.tls ? { rejectUnauthorized: o.tls.rejectUnauthorized } : {}),
  });
  try {
    return await new Promise<StoredCredentials>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new ProvisionError("TIMEOUT", `no provisioning answer within ${o.timeoutMs ?? 60_000} ms`)),
        o.timeoutMs ?? 60_000,
      );
      const fail = (err: Error) => {
        clearTimeout(timer);
        reject(err);
      };
      client.on("error", fail);
      client.on("close", () => fail(new ProvisionError("CLOSED", "connection closed before the provisioning answer")));
      client.on("message", (topic, payload) => {
        const r = parseInbound(topic, payload);
        if (!r.ok || r.value.kind !== "provisionResponse") return;
        clearTimeout(timer);
        const m = r.value.msg;
        if (m.status !== "SUCCESS") return reject(new ProvisionError(m.status, m.errorMsg ?? m.status));
        const base = { deviceName: o.deviceName, provisionedAt: Date.now() };
        if (m.credentialsType === "ACCESS_TOKEN" && typeof m.credentialsValue === "string")
          return resolve({ ...base, accessToken: m.credentialsValue });
        if (m.credentialsType === "MQTT_BASIC" && isObject(m.credentialsValue)) {
          const c = m.credentialsValue;
          const creds: StoredCredentials = { ...base };
          if (typeof c.clientId === "string") creds.clientId = c.clientId;
          if (typeof c.userName === "string") creds.username = c.userName;
          if (typeof c.password === "string") creds.password = c.password;
          return resolve(creds);
        }
        reject(new ProvisionError("UNSUPPORTED", `unsupported credentials type ${m.credentialsType ?? "?"}`));
      });
      client.on("connect", () => {
        client.subscribe(TOPIC.provisionResponse, { qos: 1 }, () => {
          const req: ProvisionRequestMsg = {
            provisionDeviceKey: o.key,
            provisionDeviceSecret: o.secret,
            deviceName: o.deviceName,
            gateway: true,
            credentialsType: "ACCESS_TOKEN",
          };
          client.publish(TOPIC.provisionRequest, JSON.stringify(req), { qos: 1 }, (err) => err && fail(err));
        });
      });
    });
  } finally {
    client.removeAllListeners();
    client.on("error", () => {});
    client.end(true);
  }
}
