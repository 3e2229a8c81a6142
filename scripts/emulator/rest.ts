// The ThingsBoard REST subset of shared/reference/thingsboard-rest-subset.md: login, device
// lookup, server-side RPC and (in restTelemetry.ts) attributes and telemetry. Same paths and
// shapes as ThingsBoard, so scripts written for a real server work unchanged.
import { randomBytes } from "node:crypto";
import http from "node:http";
import express, { type NextFunction, type Request, type Response } from "express";
import { isObject } from "./json.ts";
import type { EmulatorCore } from "./core.ts";
import type { EmulatedDevice } from "./model.ts";
import { assignPackage, type OtaType } from "./ota.ts";
import { checkAssignable, profileIdOf, registerOtaRoutes } from "./restOta.ts";
import { registerTelemetryRoutes } from "./restTelemetry.ts";
import { rpcHttpResult } from "./rpc.ts";

export interface RestConfig {
  user: { username: string; password: string };
  rpcTimeoutMs: number;
  /** ThingsBoard raises a REST RPC timeout below 5 s to 5 s (AbstractRpcController). */
  minRpcTimeoutMs: number;
}

const TENANT_ID = "1e4e8b60-0000-4000-8000-00000000e3a7";
const NULL_UID = "13814000-1dd2-11b2-8080-808080808080";

export function sendError(res: Response, status: number, message: string, errorCode = status === 404 ? 32 : 31): void {
  res.status(status).json({ status, message, errorCode, timestamp: Date.now() });
}

/** The Device JSON of GET /api/tenant/devices. */
export function deviceJson(d: EmulatedDevice): Record<string, unknown> {
  const additionalInfo: Record<string, unknown> = {
    gateway: d.gateway,
    overwriteActivityTime: d.overwriteActivityTime === true,
    description: "",
  };
  if (d.lastConnectedGateway) additionalInfo["lastConnectedGateway"] = d.lastConnectedGateway;
  return {
    id: { entityType: "DEVICE", id: d.id },
    createdTime: d.createdAt,
    tenantId: { entityType: "TENANT", id: TENANT_ID },
    customerId: { entityType: "CUSTOMER", id: NULL_UID },
    name: d.name,
    type: d.type,
    label: null,
    deviceProfileId: { entityType: "DEVICE_PROFILE", id: profileIdOf(d.type) },
    firmwareId: d.firmwareId === undefined ? null : { entityType: "OTA_PACKAGE", id: d.firmwareId },
    softwareId: d.softwareId === undefined ? null : { entityType: "OTA_PACKAGE", id: d.softwareId },
    additionalInfo,
  };
}

/** A JWT-shaped bearer token: tools that decode `exp` keep working. */
function issueToken(sub: string): string {
  const b64 = (o: object): string => Buffer.from(JSON.stringify(o)).toString("base64url");
  const exp = Math.floor(Date.now() / 1000) + 9000;
  return `${b64({ alg: "HS512" })}.${b64({ sub, scopes: ["TENANT_ADMIN"], tenantId: TENANT_ID, exp })}.${randomBytes(24).toString("base64url")}`;
}

export function createRestApp(core: EmulatorCore, cfg: RestConfig): express.Express {
  const app = express();
  const issued = new Set<string>();
  app.disable("x-powered-by");
  app.use(express.json({ limit: "1mb" }));

  app.post("/api/auth/login", (req, res) => {
    const body: unknown = req.body;
    if (!isObject(body) || body["username"] !== cfg.user.username || body["password"] !== cfg.user.password) {
      res
        .status(401)
        .json({ status: 401, message: "Invalid username or password", errorCode: 10, timestamp: Date.now() });
      return;
    }
    const token = issueToken(cfg.user.username);
    const refreshToken = issueToken(cfg.user.username);
    issued.add(token);
    res.json({ token, refreshToken });
  });

  app.use("/api", (req, res, next) => {
    const header = req.get("x-authorization") ?? "";
    const m = /^Bearer\s+(\S+)$/i.exec(header);
    if (!m?.[1] || !issued.has(m[1])) {
      res.status(401).json({ status: 401, message: "Authentication failed", errorCode: 10, timestamp: Date.now() });
      return;
    }
    next();
  });

  app.get("/api/tenant/devices", (req, res) => {
    const name = req.query["deviceName"];
    if (typeof name === "string") {
      const d = core.store.byDeviceName(name);
      if (!d) return sendError(res, 404, `Device with requested name '${name}' wasn't found!`);
      res.json(deviceJson(d));
      return;
    }
    const pageSize = Number(req.query["pageSize"]);
    const page = Number(req.query["page"] ?? 0);
    if (!Number.isInteger(pageSize) || pageSize < 1 || !Number.isInteger(page) || page < 0) {
      return sendError(res, 400, "pageSize (>= 1) and page (>= 0) are required");
    }
    const text = typeof req.query["textSearch"] === "string" ? req.query["textSearch"].toLowerCase() : "";
    const all = core.store
      .list()
      .filter((d) => d.name.toLowerCase().includes(text))
      .sort((a, b) => b.createdAt - a.createdAt);
    const data = all.slice(page * pageSize, (page + 1) * pageSize).map(deviceJson);
    const totalPages = Math.ceil(all.length / pageSize);
    res.json({ data, totalPages, totalElements: all.length, hasNext: page + 1 < totalPages });
  });

  app.get("/api/device/:deviceId", (req, res) => {
    const d = core.store.byDeviceId(req.params.deviceId);
    if (!d) return sendError(res, 404, "Requested item wasn't found!");
    res.json(deviceJson(d));
  });

  // DeviceController.saveDevice of an existing device: the emulator changes only the OTA
  // assignment (firmwareId/softwareId, checked as AbstractHasOtaPackageValidator does);
  // DefaultOtaPackageStateService then pushes the sw_*/fw_* shared attributes.
  const updateDevice = (body: Record<string, unknown>, res: Response): void => {
    const idObj = body["id"];
    const id = isObject(idObj) && typeof idObj["id"] === "string" ? idObj["id"] : undefined;
    const d = id === undefined ? undefined : core.store.byDeviceId(id);
    if (!d) return sendError(res, 404, "Requested item wasn't found!");
    if (body["name"] !== d.name || (body["type"] !== undefined && body["type"] !== d.type)) {
      return sendError(
        res,
        400,
        "The emulator updates only a device's firmwareId/softwareId; name and type must stay as they are",
      );
    }
    const wanted: Array<[OtaType, string | undefined]> = [];
    for (const [type, key] of [
      ["FIRMWARE", "firmwareId"],
      ["SOFTWARE", "softwareId"],
    ] as const) {
      const v = body[key];
      const pkgId = isObject(v) && typeof v["id"] === "string" ? v["id"] : undefined;
      if (pkgId !== undefined) {
        const err = checkAssignable(core, d.type, type, pkgId);
        if (err) return sendError(res, 400, err);
      }
      wanted.push([type, pkgId]);
    }
    for (const [type, pkgId] of wanted) assignPackage(core, d, type, pkgId);
    res.json(deviceJson(d));
  };

  // DeviceController.saveDevice (create only): name required and unique in the tenant; the
  // tenant profile's maxDevices gives 403 with ThingsboardEntitiesLimitExceededResponse; an
  // access token may be given in ?accessToken=, else one is generated.
  app.post("/api/device", (req, res) => {
    const body: unknown = req.body;
    if (!isObject(body) || typeof body["name"] !== "string" || body["name"].trim() === "")
      return sendError(res, 400, "Device name should be specified!");
    if ("id" in body && body["id"] !== null) return updateDevice(body, res);
    const name = body["name"];
    if (core.store.byDeviceName(name)) return sendError(res, 400, "Device with such name already exists!");
    if (core.config.maxDevices > 0 && core.store.list().length >= core.config.maxDevices) {
      res.status(403).json({
        status: 403,
        message: "Devices limit reached",
        errorCode: 41,
        timestamp: Date.now(),
        entityType: "DEVICE",
        limit: core.config.maxDevices,
      });
      return;
    }
    const token =
      typeof req.query["accessToken"] === "string" && req.query["accessToken"]
        ? req.query["accessToken"]
        : randomBytes(10).toString("hex");
    if (core.store.hasToken(token))
      return sendError(res, 400, "Device credentials are already assigned to another device!");
    const type = typeof body["type"] === "string" && body["type"] ? body["type"] : "default";
    const info = body["additionalInfo"];
    const d = core.store.create(name, type, isObject(info) && info["gateway"] === true);
    core.store.addToken(d.id, token);
    res.json(deviceJson(d));
  });

  const rpcRoute = (api: "v1" | "v2") => async (req: Request<{ kind: string; deviceId: string }>, res: Response) => {
    const { kind, deviceId } = req.params;
    if (kind !== "oneway" && kind !== "twoway") return sendError(res, 404, "Not found");
    const body: unknown = req.body;
    if (!isObject(body) || typeof body["method"] !== "string")
      return sendError(res, 400, "RPC body needs a string 'method'");
    const d = core.store.byDeviceId(deviceId);
    if (!d) return sendError(res, 404, "Requested item wasn't found!");
    const rawTimeout = body["timeout"];
    const timeout = typeof rawTimeout === "number" && rawTimeout > 0 ? rawTimeout : cfg.rpcTimeoutMs;
    // A REST call without params gives the device JSON null (the params node is absent).
    const params = "params" in body ? body["params"] : null;
    const outcome = await core.rpc.submit(
      d.id,
      body["method"],
      params,
      kind === "twoway",
      Math.max(cfg.minRpcTimeoutMs, timeout),
    );
    const result = rpcHttpResult(outcome, api);
    if (!("body" in result)) {
      res.status(result.status).end();
      return;
    }
    // The device's `data` is re-serialized as the body whatever its JSON type (§4.6).
    res
      .status(result.status)
      .type("application/json")
      .send(JSON.stringify(result.body ?? null));
  };
  app.post("/api/plugins/rpc/:kind/:deviceId", rpcRoute("v1"));
  app.post("/api/rpc/:kind/:deviceId", rpcRoute("v2"));

  registerTelemetryRoutes(app, core);
  registerOtaRoutes(app, core);

  app.use((_req: Request, res: Response) => sendError(res, 404, "Not found"));
  // Bad JSON bodies (body-parser) and anything thrown by a route end here, never in a crash.
  app.use((err: unknown, _req: Request, res: Response, _next: NextFunction) => {
    const e = err as { type?: string; status?: number; message?: string };
    if (e.type === "entity.parse.failed")
      return sendError(res, 400, `Invalid JSON body: ${e.message ?? "parse error"}`);
    if (typeof e.status === "number" && e.status >= 400 && e.status < 500)
      return sendError(res, e.status, e.message ?? "Bad request");
    core.log.error(`REST handler failed: ${e.message ?? String(err)}`);
    sendError(res, 500, "Internal error", 2);
  });
  return app;
}

export async function startRest(app: express.Express, host: string, port: number): Promise<http.Server> {
  const server = http.createServer(app);
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen({ host, port }, () => {
      server.off("error", reject);
      resolve();
    });
  });
  return server;
}
