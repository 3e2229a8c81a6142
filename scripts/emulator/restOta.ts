// OTA package REST, ThingsBoard's OtaPackageController paths (thingsboard/thingsboard
// application/.../controller/OtaPackageController.java) and their validators
// (BaseOtaPackageDataValidator, OtaPackageDataValidator, AbstractHasOtaPackageValidator):
//   POST /api/otaPackage                  save the info (title, version, type, deviceProfileId, tag, url)
//   POST /api/otaPackage/{id}?checksumAlgorithm=&checksum=   multipart "file": the data
//   GET  /api/otaPackage/info/{id}, GET /api/otaPackage/{id}, GET /api/otaPackage/{id}/download
//   DELETE /api/otaPackage/{id}
// Assignment is DeviceController.saveDevice with firmwareId/softwareId (rest.ts).
// The emulator has no device profile entities: a device's profile id is derived from its type.
import { createHash } from "node:crypto";
import express, { type Express, type Response } from "express";
import { isObject } from "./json.ts";
import type { EmulatorCore } from "./core.ts";
import { generateChecksum, isChecksumAlgorithm } from "./otaChecksum.ts";
import type { OtaPackage, OtaType } from "./ota.ts";
import { sendError } from "./rest.ts";

/** ThingsBoard rejects uploads beyond spring.servlet.multipart.max-file-size (50 MB by default). */
const MAX_FILE_BYTES = 50 * 1024 * 1024;

/** A stable DEVICE_PROFILE id per device type (the emulator's stand-in for profile entities). */
export function profileIdOf(type: string): string {
  const h = createHash("sha1").update(`device-profile:${type}`).digest("hex");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-5${h.slice(13, 16)}-8${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

function entityId(v: unknown): string | undefined {
  return isObject(v) && typeof v["id"] === "string" ? v["id"] : undefined;
}

export function otaInfoJson(p: OtaPackage): Record<string, unknown> {
  return {
    id: { entityType: "OTA_PACKAGE", id: p.id },
    createdTime: p.createdTime,
    deviceProfileId: p.deviceProfileId === undefined ? null : { entityType: "DEVICE_PROFILE", id: p.deviceProfileId },
    type: p.type,
    title: p.title,
    version: p.version,
    tag: p.tag,
    url: p.url ?? null,
    hasData: p.data !== undefined,
    fileName: p.fileName ?? null,
    contentType: p.contentType ?? null,
    checksumAlgorithm: p.checksumAlgorithm ?? null,
    checksum: p.checksum ?? null,
    dataSize: p.data?.length ?? null,
    name: p.title,
  };
}

/** The single `file` part of a multipart/form-data body (what @RequestPart MultipartFile reads). */
function filePart(
  body: Buffer,
  contentType: string,
): { data: Buffer; fileName: string; contentType: string } | undefined {
  const b = /boundary=(?:"([^"]+)"|([^;]+))/i.exec(contentType);
  const boundary = b?.[1] ?? b?.[2];
  if (!boundary) return undefined;
  const delim = Buffer.from(`--${boundary}`);
  let pos = body.indexOf(delim);
  while (pos >= 0) {
    const headStart = pos + delim.length + 2;
    const headEnd = body.indexOf("\r\n\r\n", headStart);
    if (headEnd < 0) return undefined;
    const next = body.indexOf(Buffer.from(`\r\n--${boundary}`), headEnd + 4);
    if (next < 0) return undefined;
    const head = body.subarray(headStart, headEnd).toString("utf8");
    if (/name="file"/i.test(head)) {
      const fileName = /filename="([^"]*)"/i.exec(head)?.[1] ?? "";
      const type = /content-type:\s*([^\r\n]+)/i.exec(head)?.[1]?.trim() ?? "application/octet-stream";
      return { data: body.subarray(headEnd + 4, next), fileName, contentType: type };
    }
    pos = next + 2;
  }
  return undefined;
}

export function registerOtaRoutes(app: Express, core: EmulatorCore): void {
  const find = (res: Response, id: string): OtaPackage | undefined => {
    const p = core.ota.get(id);
    if (!p) sendError(res, 404, "Requested item wasn't found!");
    return p;
  };

  app.post("/api/otaPackage", (req, res) => {
    const body: unknown = req.body;
    if (!isObject(body)) return sendError(res, 400, "Invalid request body");
    const { title, version, type, tag, url } = body;
    if (typeof title !== "string" || title.trim() === "")
      return sendError(res, 400, "OtaPackage title should be specified!");
    if (type !== "FIRMWARE" && type !== "SOFTWARE") return sendError(res, 400, "Type should be specified!");
    if (typeof version !== "string" || version === "")
      return sendError(res, 400, "OtaPackage version should be specified!");
    if (title.length > 255) return sendError(res, 400, "The length of title should be equal or shorter than 255");
    if (version.length > 255) return sendError(res, 400, "The length of version should be equal or shorter than 255");
    if (entityId(body["id"]) !== undefined)
      return sendError(res, 400, "The emulator creates OTA packages only; updating one is not supported");
    const profile = entityId(body["deviceProfileId"]);
    const profiles = new Set(core.store.list().map((d) => profileIdOf(d.type)));
    if (profile !== undefined && !profiles.has(profile))
      return sendError(res, 400, "OtaPackage is referencing to non-existent device profile!");
    // SaveOtaPackageInfoRequest.usesUrl/url: a package given by URL has no data here.
    const pkgUrl = body["usesUrl"] === true && typeof url === "string" && url !== "" ? url : undefined;
    try {
      const info: Omit<OtaPackage, "id" | "createdTime"> = {
        type: type as OtaType,
        title,
        version,
        tag: typeof tag === "string" && tag !== "" ? tag : `${title} ${version}`,
      };
      if (profile !== undefined) info.deviceProfileId = profile;
      if (pkgUrl !== undefined) info.url = pkgUrl;
      res.json(otaInfoJson(core.ota.create(info)));
    } catch (err) {
      sendError(res, 400, (err as Error).message);
    }
  });

  app.post(
    "/api/otaPackage/:id",
    express.raw({ type: "multipart/form-data", limit: MAX_FILE_BYTES + 64 * 1024 }),
    (req, res) => {
      const pkg = find(res, req.params.id);
      if (!pkg) return;
      const algo =
        typeof req.query["checksumAlgorithm"] === "string" ? req.query["checksumAlgorithm"].toUpperCase() : "";
      if (algo === "") return sendError(res, 400, "Parameter 'checksumAlgorithm' can't be empty!");
      // ChecksumAlgorithm.valueOf: an unknown name is an IllegalArgumentException -> 400.
      if (!isChecksumAlgorithm(algo)) return sendError(res, 400, `No enum constant ChecksumAlgorithm.${algo}`);
      const part = Buffer.isBuffer(req.body) ? filePart(req.body, req.get("content-type") ?? "") : undefined;
      if (!part) return sendError(res, 400, "Required part 'file' is not present.");
      if (part.data.length === 0) return sendError(res, 400, "OtaPackage data should be specified!");
      if (pkg.url) return sendError(res, 400, "File can't be saved if URL present!");
      if (pkg.data) return sendError(res, 400, "Updating otaPackage data is prohibited!");
      const given = typeof req.query["checksum"] === "string" ? req.query["checksum"] : "";
      const actual = generateChecksum(algo, part.data);
      if (given !== "" && given !== actual) return sendError(res, 400, "Wrong otaPackage file!");
      pkg.data = Buffer.from(part.data);
      pkg.fileName = part.fileName;
      pkg.contentType = part.contentType;
      pkg.checksumAlgorithm = algo;
      pkg.checksum = actual;
      res.json(otaInfoJson(pkg));
    },
  );

  app.get("/api/otaPackage/info/:id", (req, res) => {
    const pkg = find(res, req.params.id);
    if (pkg) res.json(otaInfoJson(pkg));
  });

  app.get("/api/otaPackage/:id/download", (req, res) => {
    const pkg = find(res, req.params.id);
    if (!pkg) return;
    if (!pkg.data) {
      res.status(404).end();
      return;
    }
    res
      .type(pkg.contentType ?? "application/octet-stream")
      .attachment(pkg.fileName ?? "package")
      .send(pkg.data);
  });

  app.get("/api/otaPackage/:id", (req, res) => {
    const pkg = find(res, req.params.id);
    if (pkg) res.json({ ...otaInfoJson(pkg), data: pkg.data ? pkg.data.toString("base64") : null });
  });

  app.delete("/api/otaPackage/:id", (req, res) => {
    const pkg = find(res, req.params.id);
    if (!pkg) return;
    const used = core.store.list().some((d) => d.firmwareId === pkg.id || d.softwareId === pkg.id);
    // BaseOtaPackageService.deleteOtaPackage refuses a package still referenced by a device.
    if (used) return sendError(res, 400, `The ${pkg.type.toLowerCase()} referenced by the devices cannot be deleted!`);
    core.ota.delete(pkg.id);
    res.status(200).end();
  });
}

/**
 * AbstractHasOtaPackageValidator for a saved device: the package exists, has the right type,
 * has data or a URL and belongs to the device's profile. Returns an error message or undefined.
 */
export function checkAssignable(core: EmulatorCore, deviceType: string, type: OtaType, id: string): string | undefined {
  const what = type === "FIRMWARE" ? "firmware" : "software";
  const pkg = core.ota.get(id);
  if (!pkg) return `Can't assign non-existent ${what}!`;
  if (pkg.type !== type) return `Can't assign ${what} with type: ${pkg.type}`;
  if (!pkg.data && !pkg.url) return `Can't assign ${what} with empty data!`;
  if (pkg.deviceProfileId !== profileIdOf(deviceType)) return `Can't assign ${what} with different deviceProfile!`;
  return undefined;
}
