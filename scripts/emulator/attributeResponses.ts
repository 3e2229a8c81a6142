// Attribute-request answers, with the exact shapes of JsonConverter (reference §3.3, §4.4).
import type { AttributeScope, DeviceStore } from "./model.ts";

function pick(
  store: DeviceStore,
  deviceId: string,
  scope: AttributeScope,
  names: string[] | undefined,
): Array<[string, unknown]> {
  const attrs = store.attributes(deviceId, scope);
  if (names === undefined) return [...attrs].map(([k, e]) => [k, e.value]);
  const out: Array<[string, unknown]> = [];
  for (const n of names) {
    const e = attrs.get(n);
    if (e) out.push([n, e.value]);
  }
  return out;
}

/**
 * `{"id","device"}` then `value` / `values` / neither. "Multiple" is decided by how many keys were
 * requested (> 1), not by how many were found. With no names (`keys:[]`) the actor returns every
 * client then every shared attribute, and each scope is written in turn: exactly one attribute
 * writes `value` (a later scope overwrites it), more write into `values`.
 */
export function buildGatewayAttributeResponse(
  store: DeviceStore,
  deviceId: string,
  id: number,
  device: string,
  client: boolean,
  requested: string[],
): Record<string, unknown> {
  const res: Record<string, unknown> = { id, device };
  const multiple = requested.length > 1;
  const lists: Array<Array<[string, unknown]>> =
    requested.length === 0
      ? [pick(store, deviceId, "CLIENT_SCOPE", undefined), pick(store, deviceId, "SHARED_SCOPE", undefined)]
      : [pick(store, deviceId, client ? "CLIENT_SCOPE" : "SHARED_SCOPE", requested)];
  for (const list of lists) {
    if (list.length === 0) continue;
    if (!multiple && list.length === 1) {
      res["value"] = list[0]?.[1];
      continue;
    }
    const values = (res["values"] as Record<string, unknown> | undefined) ?? {};
    for (const [k, v] of list) values[k] = v;
    res["values"] = values;
  }
  return res;
}

/** Comma-split with no trimming, like JsonMqttAdaptor.processGetAttributeRequestMsg. */
function splitKeys(v: unknown): string[] | undefined {
  return typeof v === "string" ? v.split(",") : undefined;
}

/**
 * `{"client":{...},"shared":{...}}` for v1/devices/me/attributes/request/{n}. Neither list given
 * means all attributes of both scopes; a section appears only when something was found.
 */
export function buildDeviceAttributeResponse(
  store: DeviceStore,
  deviceId: string,
  req: Record<string, unknown>,
): Record<string, unknown> {
  const clientKeys = splitKeys(req["clientKeys"]);
  const sharedKeys = splitKeys(req["sharedKeys"]);
  const all = clientKeys === undefined && sharedKeys === undefined;
  const res: Record<string, unknown> = {};
  if (all || clientKeys) {
    const c = pick(store, deviceId, "CLIENT_SCOPE", clientKeys);
    if (c.length > 0) res["client"] = Object.fromEntries(c);
  }
  if (all || sharedKeys) {
    const sh = pick(store, deviceId, "SHARED_SCOPE", sharedKeys);
    if (sh.length > 0) res["shared"] = Object.fromEntries(sh);
  }
  return res;
}
