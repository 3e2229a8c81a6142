// OTA packages as ThingsBoard keeps them, and the device's chunk protocol.
// Sources (thingsboard/thingsboard):
// - MqttTopics.java: v2/{fw,sw}/request/(?<requestId>\d+)/chunk/(?<chunk>\d+), responses on
//   v2/{fw,sw}/response/{requestId}/chunk/{n} (DEVICE_SOFTWARE_FIRMWARE_RESPONSES_TOPIC_FORMAT).
// - MqttTransportHandler.getOtaPackageCallback: the pattern is used with find() (not anchored);
//   the payload is the chunk size as text (empty = the size remembered for that requestId, else
//   0); a size above the transport's max payload size is PAYLOAD_TOO_LARGE; the package id is
//   remembered per requestId for the session (otaPackSessions). sendOtaPackage PUBACKs, then
//   publishes the chunk. sendOtaPackageError publishes on v2/fw/error (even for software) and
//   closes the session.
// - DefaultTransportApiService.handle(GetOtaPackageRequestMsg): the device's own package, else
//   its profile's; none -> NOT_FOUND; a package given by URL -> FAILURE.
// - CaffeineOtaPackageCache.get(key, chunkSize, chunk): chunkSize < 1 gives the whole file; a
//   chunk past the end gives an empty payload.
// - DefaultOtaPackageStateService.send/updateAttributes: on assignment the device gets the
//   shared attributes {sw_title, sw_version, sw_tag?, sw_size, sw_checksum_algorithm,
//   sw_checksum} and telemetry target_sw_* and sw_state=QUEUED.
import { randomUUID } from "node:crypto";
import type { IPublishPacket } from "mqtt-packet";
import type { ChecksumAlgorithm } from "./otaChecksum.ts";
import type { EmulatorCore } from "./core.ts";
import type { EmulatedDevice } from "./model.ts";
import { DISCONNECT, type MqttSession } from "./session.ts";

export type OtaType = "FIRMWARE" | "SOFTWARE";

export interface OtaPackage {
  id: string;
  createdTime: number;
  type: OtaType;
  title: string;
  version: string;
  tag: string;
  url?: string;
  deviceProfileId?: unknown;
  data?: Buffer;
  fileName?: string;
  contentType?: string;
  checksumAlgorithm?: ChecksumAlgorithm;
  checksum?: string;
}

/** The request pattern, found anywhere in the topic as Matcher.find() does. */
const REQUEST = /v2\/(fw|sw)\/request\/(\d+)\/chunk\/(\d+)/;

export function prefixOf(type: OtaType): "fw" | "sw" {
  return type === "FIRMWARE" ? "fw" : "sw";
}

/** Integer.parseInt: undefined where Java throws NumberFormatException. */
function parseJavaInt(s: string): number | undefined {
  if (!/^[-+]?\d+$/.test(s)) return undefined;
  const n = Number(s);
  return n >= -2147483648 && n <= 2147483647 ? n : undefined;
}

export function isOtaRequest(topic: string): boolean {
  return REQUEST.test(topic);
}

/** The package assigned to a device for a type (the emulator has no device profiles). */
export function assignedPackage(core: EmulatorCore, device: EmulatedDevice, type: OtaType): OtaPackage | undefined {
  const id = type === "FIRMWARE" ? device.firmwareId : device.softwareId;
  return id === undefined ? undefined : core.ota.get(id);
}

function otaError(s: MqttSession, error: string): void {
  s.publish("v2/fw/error", error);
  s.close(DISCONNECT.implementationSpecific, true);
}

export function handleOtaRequest(core: EmulatorCore, s: MqttSession, p: IPublishPacket, payload: Buffer): void {
  const m = REQUEST.exec(p.topic);
  if (!m || !s.device) return;
  const type: OtaType = m[1] === "fw" ? "FIRMWARE" : "SOFTWARE";
  const requestId = m[2] ?? "";
  const text = payload.toString("utf8");
  let chunkSize = text.length > 0 ? parseJavaInt(text) : 0;
  const chunk = parseJavaInt(m[3] ?? "");
  // An unparsable number is an unwrapped NumberFormatException: Netty closes the channel.
  if (chunkSize === undefined || chunk === undefined) return s.close(DISCONNECT.serverShuttingDown, true);
  if (chunkSize > 0) s.otaChunkSizes.set(requestId, chunkSize);
  else chunkSize = s.otaChunkSizes.get(requestId) ?? 0;
  if (chunkSize > core.config.maxPayloadSize) return otaError(s, "PAYLOAD_TOO_LARGE");
  let pkgId = s.otaPackages.get(requestId);
  if (pkgId === undefined) {
    const pkg = assignedPackage(core, s.device, type);
    if (!pkg || !pkg.data) return otaError(s, "NOT_FOUND");
    if (pkg.url) return otaError(s, "FAILURE");
    pkgId = pkg.id;
    s.otaPackages.set(requestId, pkgId);
  }
  s.puback(p);
  const pkg = core.ota.get(pkgId);
  const data = pkg?.data ?? Buffer.alloc(0);
  let body: Buffer;
  if (chunkSize < 1) body = data;
  else {
    const start = chunkSize * chunk;
    const size = Math.min(data.length - start, chunkSize);
    body = start < data.length && size > 0 ? data.subarray(start, start + size) : Buffer.alloc(0);
  }
  // The response type is the package's (OtaPackageCallback uses response.getType()).
  s.publish(`v2/${prefixOf(pkg?.type ?? type)}/response/${requestId}/chunk/${chunk}`, body);
  core.events.emit("otaChunk", s.device.name, { requestId, chunk, chunkSize, bytes: body.length });
}

/** Assigns (or clears) a device's package and tells the device, as DefaultOtaPackageStateService does. */
export function assignPackage(
  core: EmulatorCore,
  device: EmulatedDevice,
  type: OtaType,
  pkgId: string | undefined,
): void {
  const prefix = prefixOf(type);
  const previous = type === "FIRMWARE" ? device.firmwareId : device.softwareId;
  if (previous === pkgId) return;
  if (type === "FIRMWARE") device.firmwareId = pkgId;
  else device.softwareId = pkgId;
  const keys = ["title", "version", "ts", "state", "size", "checksum", "checksum_algorithm", "url", "tag"].map(
    (k) => `${prefix}_${k}`,
  );
  const pkg = pkgId === undefined ? undefined : core.ota.get(pkgId);
  if (!pkg) {
    const present = keys.filter((k) => core.store.attributes(device.id, "SHARED_SCOPE").has(k));
    core.deleteShared(device, present);
    return;
  }
  const ts = Date.now();
  core.store.addTelemetry(device.id, [
    {
      ts,
      values: {
        [`target_${prefix}_title`]: pkg.title,
        [`target_${prefix}_version`]: pkg.version,
        ...(pkg.tag ? { [`target_${prefix}_tag`]: pkg.tag } : {}),
        [`target_${prefix}_ts`]: ts,
        [`${prefix}_state`]: "QUEUED",
      },
    },
  ]);
  const attrs: Record<string, unknown> = { [`${prefix}_title`]: pkg.title, [`${prefix}_version`]: pkg.version };
  if (pkg.tag) attrs[`${prefix}_tag`] = pkg.tag;
  if (pkg.url) attrs[`${prefix}_url`] = pkg.url;
  else {
    attrs[`${prefix}_size`] = pkg.data?.length ?? 0;
    attrs[`${prefix}_checksum_algorithm`] = pkg.checksumAlgorithm;
    attrs[`${prefix}_checksum`] = pkg.checksum;
  }
  core.saveShared(device, attrs);
}

export class OtaStore {
  private readonly packages = new Map<string, OtaPackage>();

  create(info: Omit<OtaPackage, "id" | "createdTime">): OtaPackage {
    for (const p of this.packages.values()) {
      // "OtaPackage with such title and version already exists!" (OtaPackageDataValidator).
      if (p.title === info.title && p.version === info.version)
        throw new Error("OtaPackage with such title and version already exists!");
    }
    const pkg: OtaPackage = { ...info, id: randomUUID(), createdTime: Date.now() };
    this.packages.set(pkg.id, pkg);
    return pkg;
  }

  get(id: string): OtaPackage | undefined {
    return this.packages.get(id);
  }

  list(): OtaPackage[] {
    return [...this.packages.values()];
  }

  delete(id: string): boolean {
    return this.packages.delete(id);
  }
}
