// Shared helpers for the emulator tests: a real MQTT.js client as the gateway, bounded waits,
// and a logged-in REST caller.
import mqtt, { type IClientOptions, type MqttClient } from "mqtt";
import { startEmulator, type Emulator, type EmulatorOptions } from "../../../scripts/emulator/index.ts";

export const GW_TOKEN = "gw-token";
export const PLAIN_TOKEN = "plain-token";
export const WAIT_MS = 3000;

export function startTestEmulator(extra: EmulatorOptions = {}): Promise<Emulator> {
  return startEmulator({
    gateways: [
      { name: "GW", accessToken: GW_TOKEN },
      { name: "GW-basic", clientId: "gw-cid", username: "gw-user", password: "gw-pass" },
    ],
    devices: [{ name: "Plain", accessToken: PLAIN_TOKEN }],
    provision: { key: "pkey", secret: "psecret" },
    ...extra,
  });
}

export type Version = 4 | 5;
export const VERSIONS: Version[] = [4, 5];

export function connectClient(emu: Emulator, version: Version, opts: IClientOptions = {}): Promise<MqttClient> {
  return mqtt.connectAsync(`mqtt://127.0.0.1:${emu.mqttPort}`, {
    protocolVersion: version,
    reconnectPeriod: 0,
    connectTimeout: WAIT_MS,
    clean: true,
    ...opts,
  });
}

export function connectGateway(emu: Emulator, version: Version, opts: IClientOptions = {}): Promise<MqttClient> {
  return connectClient(emu, version, { username: GW_TOKEN, ...opts });
}

export function withTimeout<T>(p: Promise<T>, label: string, ms = WAIT_MS): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const t = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${label}`)), ms);
  });
  return Promise.race([p, t]).finally(() => clearTimeout(timer));
}

/** The next message on `topic` (optionally one passing `accept`), parsed as JSON. */
export function nextMessage(
  client: MqttClient,
  topic: string,
  accept: (body: unknown) => boolean = () => true,
): Promise<{ body: unknown; qos: number }> {
  return withTimeout(
    new Promise((resolve) => {
      const onMsg = (t: string, payload: Buffer, packet: { qos: number }): void => {
        if (t !== topic) return;
        const body: unknown = JSON.parse(payload.toString("utf8"));
        if (!accept(body)) return;
        client.off("message", onMsg);
        resolve({ body, qos: packet.qos });
      };
      client.on("message", onMsg);
    }),
    `message on ${topic}`,
  );
}

/** Resolves when the client's connection closes; call it before the action that closes. */
export function closed(client: MqttClient): Promise<void> {
  return withTimeout(
    new Promise<void>((resolve) => {
      client.once("close", () => resolve());
    }),
    "connection close",
  );
}

/** Publishes at QoS 1 and resolves with the PUBACK reason code (0 on success or on 3.1.1). */
export function publishRc(client: MqttClient, topic: string, payload: string | object): Promise<number> {
  const body = typeof payload === "string" ? payload : JSON.stringify(payload);
  return withTimeout(
    new Promise<number>((resolve) => {
      client.publish(topic, body, { qos: 1 }, (err) => {
        const code = (err as { code?: unknown } | undefined)?.code;
        resolve(err ? (typeof code === "number" ? code : -1) : 0);
      });
    }),
    `PUBACK on ${topic}`,
  );
}

export interface RestClient {
  call(method: string, path: string, body?: unknown): Promise<{ status: number; body: unknown }>;
}

export async function restLogin(emu: Emulator): Promise<RestClient> {
  const base = `http://127.0.0.1:${emu.httpPort ?? 0}`;
  const login = await fetch(`${base}/api/auth/login`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ username: "tenant@thingsboard.org", password: "tenant" }),
  });
  const { token } = (await login.json()) as { token: string };
  return {
    async call(method, path, body) {
      const init: RequestInit = {
        method,
        headers: { "x-authorization": `Bearer ${token}`, "content-type": "application/json" },
      };
      if (body !== undefined) init.body = typeof body === "string" ? body : JSON.stringify(body);
      const res = await fetch(`${base}${path}`, init);
      const text = await res.text();
      let parsed: unknown = text;
      try {
        parsed = text.length > 0 ? JSON.parse(text) : null;
      } catch {
        /* non-JSON body stays text */
      }
      return { status: res.status, body: parsed };
    },
  };
}
