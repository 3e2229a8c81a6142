// Validation of the page's device changes (add, edit, remove a device added from the dashboard).
// Only the envelope is checked here; the device itself goes through the config schema and its
// cross-checks (server/features/pageDevices.ts), so the page can add nothing a config file could not.
import { isObject } from "../util/json.ts";
import type { Parsed } from "./controlRequest.ts";

const ID = /^[A-Za-z0-9_.-]{1,64}$/;

export interface DeviceChange {
  /** The device being edited or removed; absent when adding. */
  id?: string;
  device?: Record<string, unknown>;
}

function only(o: Record<string, unknown>, keys: string[]): string | null {
  for (const k of Object.keys(o)) if (!keys.includes(k)) return `unexpected field "${k.slice(0, 40)}"`;
  return null;
}

export function parseDeviceChange(raw: unknown, op: "add" | "update" | "remove"): Parsed<DeviceChange> {
  const shape = op === "add" ? "{device}" : op === "update" ? "{id, device}" : "{id}";
  if (!isObject(raw)) return { ok: false, error: `request must be an object ${shape}` };
  const extra = only(raw, op === "add" ? ["device"] : op === "update" ? ["id", "device"] : ["id"]);
  if (extra) return { ok: false, error: extra };
  const out: DeviceChange = {};
  if (op !== "add") {
    if (typeof raw["id"] !== "string" || !ID.test(raw["id"]))
      return { ok: false, error: "id must be a device id (1-64 letters, digits, _ . or -)" };
    out.id = raw["id"];
  }
  if (op !== "remove") {
    if (!isObject(raw["device"]))
      return { ok: false, error: "device must be an object (a config entry: id, kind, ...)" };
    out.device = raw["device"];
  }
  return { ok: true, value: out };
}
