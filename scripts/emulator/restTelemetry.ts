// Attribute and telemetry routes of the REST subset (TelemetryController paths):
// save/delete/read attributes per scope and read latest or historical time series.
import type express from "express";
import type { Request, Response } from "express";
import { isObject } from "./json.ts";
import type { EmulatorCore } from "./core.ts";
import { ATTRIBUTE_SCOPES, type AttributeScope, type EmulatedDevice } from "./model.ts";
import { sendError } from "./rest.ts";
import { toKeyValues, toTelemetryRecords } from "./values.ts";

type Params = { entityType: string; entityId: string; scope?: string };

function keysParam(req: Request): string[] | undefined {
  const k = req.query["keys"];
  if (typeof k !== "string" || k.length === 0) return undefined;
  return k
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
}

/** The device addressed by the path, or an error answer already sent. */
function device(core: EmulatorCore, req: Request<Params>, res: Response): EmulatedDevice | undefined {
  if (req.params.entityType !== "DEVICE") {
    sendError(res, 400, `Entity type ${req.params.entityType} is not supported by the emulator`);
    return undefined;
  }
  const d = core.store.byDeviceId(req.params.entityId);
  if (!d) sendError(res, 404, "Requested item wasn't found!");
  return d;
}

function scopeParam(res: Response, raw: string | undefined): AttributeScope | undefined {
  if (raw !== undefined && (ATTRIBUTE_SCOPES as readonly string[]).includes(raw)) return raw as AttributeScope;
  sendError(res, 400, `Invalid attribute scope: ${raw ?? "(none)"}`);
  return undefined;
}

/** Values are strings unless useStrictDataTypes=true; JSON values print as their JSON text. */
function tsValue(v: unknown, strict: boolean): unknown {
  if (strict) return v;
  return typeof v === "object" && v !== null ? JSON.stringify(v) : String(v);
}

export function registerTelemetryRoutes(app: express.Express, core: EmulatorCore): void {
  const base = "/api/plugins/telemetry/:entityType/:entityId";

  const saveAttributes = (req: Request<Params>, res: Response): void => {
    const d = device(core, req, res);
    if (!d) return;
    const scope = scopeParam(res, req.params.scope);
    if (!scope) return;
    const body: unknown = req.body;
    if (!isObject(body)) return sendError(res, 400, "Attributes body must be a JSON object");
    if (scope === "CLIENT_SCOPE") return sendError(res, 400, "Client-scope attributes are written by the device");
    const kv = toKeyValues(body);
    // TelemetryController.saveAttributes answers these with a plain-text 400.
    if (Object.keys(kv).length === 0) {
      res.status(400).type("text/plain").send("No attributes data found in request body!");
      return;
    }
    if (Object.keys(kv).some((k) => k.trim() === "")) {
      res.status(400).type("text/plain").send("Key cannot be blank");
      return;
    }
    if (scope === "SHARED_SCOPE") core.saveShared(d, kv);
    else core.store.setAttributes(d.id, scope, kv);
    res.status(200).end();
  };
  app.post(`${base}/attributes/:scope`, saveAttributes);

  app.post(`${base}/timeseries/:scope`, (req: Request<Params>, res: Response) => {
    const d = device(core, req, res);
    if (!d) return;
    try {
      core.store.addTelemetry(d.id, toTelemetryRecords(req.body, Date.now()));
    } catch (err) {
      return sendError(res, 400, `Invalid telemetry: ${(err as Error).message}`);
    }
    res.status(200).end();
  });

  app.get(`${base}/values/attributes{/:scope}`, (req: Request<Params>, res: Response) => {
    const d = device(core, req, res);
    if (!d) return;
    let scopes: readonly AttributeScope[] = ATTRIBUTE_SCOPES;
    if (req.params.scope !== undefined) {
      const one = scopeParam(res, req.params.scope);
      if (!one) return;
      scopes = [one];
    }
    const keys = keysParam(req);
    const out: Array<{ lastUpdateTs: number; key: string; value: unknown }> = [];
    for (const scope of scopes) {
      for (const [key, e] of core.store.attributes(d.id, scope)) {
        if (!keys || keys.includes(key)) out.push({ lastUpdateTs: e.lastUpdateTs, key, value: e.value });
      }
    }
    res.json(out);
  });

  app.get(`${base}/values/timeseries`, (req: Request<Params>, res: Response) => {
    const d = device(core, req, res);
    if (!d) return;
    const strict = req.query["useStrictDataTypes"] === "true";
    const keys = keysParam(req);
    const out: Record<string, Array<{ ts: number; value: unknown }>> = {};
    if (req.query["startTs"] === undefined && req.query["endTs"] === undefined) {
      for (const [k, e] of core.store.latest(d.id)) {
        if (!keys || keys.includes(k)) out[k] = [{ ts: e.ts, value: tsValue(e.value, strict) }];
      }
      res.json(out);
      return;
    }
    const startTs = Number(req.query["startTs"]);
    const endTs = Number(req.query["endTs"]);
    const limit = req.query["limit"] === undefined ? 100 : Number(req.query["limit"]);
    if (!keys || !Number.isFinite(startTs) || !Number.isFinite(endTs) || !Number.isInteger(limit) || limit < 1) {
      return sendError(res, 400, "History needs keys, numeric startTs and endTs, and limit >= 1");
    }
    // Newest first, at most `limit` points per key.
    const records = [...core.store.telemetry(d.id)]
      .filter((r) => r.ts >= startTs && r.ts <= endTs)
      .sort((a, b) => b.ts - a.ts);
    for (const k of keys) {
      const points: Array<{ ts: number; value: unknown }> = [];
      for (const r of records) {
        if (points.length >= limit) break;
        if (k in r.values) points.push({ ts: r.ts, value: tsValue(r.values[k], strict) });
      }
      if (points.length > 0) out[k] = points;
    }
    res.json(out);
  });

  const deleteAttributes = (req: Request<Params>, res: Response): void => {
    const d = device(core, req, res);
    if (!d) return;
    const scope = scopeParam(res, req.params.scope);
    if (!scope) return;
    const keys = keysParam(req);
    if (!keys) return sendError(res, 400, "keys are required");
    if (scope === "SHARED_SCOPE") core.deleteShared(d, keys);
    else core.store.deleteAttributes(d.id, scope, keys);
    res.status(200).end();
  };
  app.delete(`${base}/:scope`, deleteAttributes);
  app.delete(`${base}/attributes/:scope`, deleteAttributes);

  // The legacy form without "/attributes" comes last so it cannot shadow the routes above.
  app.post(`${base}/:scope`, saveAttributes);
}
