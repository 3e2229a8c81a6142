// Device provisioning over MQTT (reference §3.8; DeviceProvisionServiceImpl with the
// ALLOW_CREATE_NEW_DEVICES strategy): only /provision/request is served on a provision session.
import { randomBytes } from "node:crypto";
import type { IPublishPacket } from "mqtt-packet";
import { isObject, parseJson } from "./json.ts";
import { PUBACK } from "./acks.ts";
import type { EmulatorCore } from "./core.ts";
import { DISCONNECT, type MqttSession } from "./session.ts";

export interface ProvisionConfig {
  key: string;
  secret: string;
}

const NOT_FOUND = { errorMsg: "Provision data was not found!", status: "NOT_FOUND" } as const;
const FAILURE = { errorMsg: "Failed to provision device!", status: "FAILURE" } as const;

function randomName(): string {
  return randomBytes(15).toString("base64url").replace(/[-_]/g, "x").slice(0, 20);
}

function str(v: unknown): string | undefined {
  return typeof v === "string" ? v : undefined;
}

export function handleProvisionPublish(core: EmulatorCore, s: MqttSession, p: IPublishPacket, payload: Buffer): void {
  if (p.topic !== "/provision/request") {
    s.puback(p, PUBACK.topicNameInvalid);
    return s.close(DISCONNECT.topicNameInvalid, true);
  }
  const parsed = parseJson(payload);
  const req = parsed.ok ? parsed.value : undefined;
  const key = isObject(req) ? str(req["provisionDeviceKey"]) : undefined;
  const secret = isObject(req) ? str(req["provisionDeviceSecret"]) : undefined;
  // ThingsBoard would retry a non-JSON body as protobuf; either way a request without the key
  // pair is refused with 0x83 and a close.
  if (!isObject(req) || key === undefined || secret === undefined) {
    s.puback(p, PUBACK.implementationSpecific);
    return s.close(DISCONNECT.implementationSpecific, true);
  }
  const { answer, device } = provision(core, req, key, secret);
  s.puback(p);
  s.publish("/provision/response", answer);
  core.events.emit("provision", answer["status"], device ?? str(req["deviceName"]));
}

interface ProvisionResult {
  answer: Record<string, unknown>;
  device?: string;
}

function provision(core: EmulatorCore, req: Record<string, unknown>, key: string, secret: string): ProvisionResult {
  const cfg = core.config.provision;
  if (!cfg || cfg.key !== key || cfg.secret !== secret) return { answer: { ...NOT_FOUND } };
  const rawName = req["deviceName"];
  const name =
    rawName === undefined || rawName === null ? randomName() : typeof rawName === "string" ? rawName.trim() : "";
  if (name.length === 0 || core.store.byDeviceName(name)) return { answer: { ...FAILURE } };
  const type = str(req["deviceType"]) ?? "default";
  const credentialsType = str(req["credentialsType"]) ?? "ACCESS_TOKEN";
  const gateway = req["gateway"] === true;
  if (credentialsType === "ACCESS_TOKEN") {
    const wanted = str(req["token"]) ?? "";
    if (wanted !== "" && core.store.hasToken(wanted)) return { answer: { ...FAILURE } };
    const dev = core.store.create(name, type, gateway);
    const token = wanted !== "" ? wanted : core.store.newToken();
    core.store.addToken(dev.id, token);
    return { answer: { credentialsValue: token, credentialsType, status: "SUCCESS" }, device: name };
  }
  if (credentialsType === "MQTT_BASIC") {
    const clientId = str(req["clientId"]);
    const username = str(req["username"]);
    const password = str(req["password"]);
    if (!clientId && !username) return { answer: { ...FAILURE } };
    const dev = core.store.create(name, type, gateway);
    const creds: { clientId?: string; username?: string; password?: string } = {};
    if (clientId) creds.clientId = clientId;
    if (username) creds.username = username;
    if (password) creds.password = password;
    core.store.addBasic(dev.id, creds);
    const credentialsValue = { clientId: clientId ?? null, userName: username ?? null, password: password ?? null };
    return { answer: { credentialsValue, credentialsType, status: "SUCCESS" }, device: name };
  }
  // X.509 provisioning needs the TLS client-certificate path, which the emulator does not model.
  return { answer: { ...FAILURE } };
}
