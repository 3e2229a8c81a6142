// Validation of what the page sends: only the listed methods, with exactly the params they take.
// Anything else is answered with a clear error; nothing from a client is trusted or thrown on.
import { isInteger, isObject } from "../util/json.ts";
import { isHistoryRange } from "../history/tiers.ts";
import type { ClaimRequest, ControlRequest, HistoryRequest } from "./protocol.ts";

export const CONTROL_METHODS: ReadonlySet<string> = new Set([
  "setGpioStatus",
  "toggle_gpio",
  "getGpioStatus",
  "read_now",
  "setPwm",
  "getPwm",
]);

export type Parsed<T> = { ok: true; value: T } | { ok: false; error: string };

const MAX_NAME = 255;

function isPin(v: unknown): v is number {
  return isInteger(v) && v >= 0 && v <= 27; // BCM numbers on the 40-pin header (config schema bcmPin)
}

function isDeviceRef(v: unknown): v is string {
  return typeof v === "string" && v.trim().length > 0 && v.length <= MAX_NAME;
}

function onlyKeys(o: Record<string, unknown>, allowed: string[], where: string): string | null {
  for (const k of Object.keys(o)) if (!allowed.includes(k)) return `${where}: unexpected field "${k.slice(0, 40)}"`;
  return null;
}

function parseParams(method: ControlRequest["method"], params: unknown): Parsed<Record<string, unknown>> {
  const p = params === undefined || params === null ? {} : params;
  if (!isObject(p)) return { ok: false, error: "params must be an object" };
  switch (method) {
    case "setGpioStatus": {
      const extra = onlyKeys(p, ["pin", "enabled"], "params");
      if (extra) return { ok: false, error: extra };
      if (!isPin(p["pin"])) return { ok: false, error: "params.pin must be an integer 0-27" };
      if (typeof p["enabled"] !== "boolean") return { ok: false, error: "params.enabled must be true or false" };
      return { ok: true, value: { pin: p["pin"], enabled: p["enabled"] } };
    }
    case "toggle_gpio": {
      const extra = onlyKeys(p, ["pin"], "params");
      if (extra) return { ok: false, error: extra };
      if (!isPin(p["pin"])) return { ok: false, error: "params.pin must be an integer 0-27" };
      return { ok: true, value: { pin: p["pin"] } };
    }
    case "getGpioStatus": {
      const extra = onlyKeys(p, ["pin"], "params");
      if (extra) return { ok: false, error: extra };
      if (p["pin"] !== undefined && !isPin(p["pin"])) return { ok: false, error: "params.pin must be an integer 0-27" };
      return { ok: true, value: p["pin"] === undefined ? {} : { pin: p["pin"] } };
    }
    case "setPwm": {
      // The device checks ranges and limits (duty 0-1, a servo's µs); here only the shape.
      const extra = onlyKeys(p, ["pin", "duty", "pulseUs", "frequencyHz"], "params");
      if (extra) return { ok: false, error: extra };
      if (!isPin(p["pin"])) return { ok: false, error: "params.pin must be an integer 0-27" };
      const value: Record<string, unknown> = { pin: p["pin"] };
      for (const k of ["duty", "pulseUs", "frequencyHz"]) {
        if (p[k] === undefined) continue;
        if (typeof p[k] !== "number" || !Number.isFinite(p[k]))
          return { ok: false, error: `params.${k} must be a number` };
        value[k] = p[k];
      }
      return { ok: true, value };
    }
    case "getPwm": {
      const extra = onlyKeys(p, [], "params");
      if (extra) return { ok: false, error: extra };
      return { ok: true, value: {} };
    }
    case "read_now": {
      const extra = onlyKeys(p, [], "params");
      if (extra) return { ok: false, error: extra };
      return { ok: true, value: {} };
    }
  }
}

export function parseControlRequest(raw: unknown): Parsed<Required<ControlRequest>> {
  if (!isObject(raw)) return { ok: false, error: "control request must be an object {device, method, params}" };
  const extra = onlyKeys(raw, ["device", "method", "params"], "control request");
  if (extra) return { ok: false, error: extra };
  const { device, method } = raw;
  if (!isDeviceRef(device)) return { ok: false, error: "device must be a non-empty string of at most 255 characters" };
  if (typeof method !== "string" || !CONTROL_METHODS.has(method)) {
    return { ok: false, error: `method must be one of ${[...CONTROL_METHODS].join(", ")}` };
  }
  const m = method as ControlRequest["method"];
  const params = parseParams(m, raw["params"]);
  if (!params.ok) return params;
  return { ok: true, value: { device: device.trim(), method: m, params: params.value } };
}

export function parseClaimRequest(raw: unknown): Parsed<ClaimRequest> {
  if (raw === undefined || raw === null) return { ok: true, value: {} };
  if (!isObject(raw)) return { ok: false, error: "claim request must be an object {devices?: string[]}" };
  const extra = onlyKeys(raw, ["devices"], "claim request");
  if (extra) return { ok: false, error: extra };
  const devices = raw["devices"];
  if (devices === undefined) return { ok: true, value: {} };
  if (!Array.isArray(devices) || devices.length > 100 || !devices.every(isDeviceRef)) {
    return { ok: false, error: "devices must be a list of at most 100 device names" };
  }
  return { ok: true, value: { devices: devices.map((d) => d.trim()) } };
}

export function parseHistoryRequest(raw: unknown): Parsed<HistoryRequest> {
  const shape = 'history request must be an object {devices: [device ids], range: "1h" | "24h" | "7d"}';
  if (!isObject(raw)) return { ok: false, error: shape };
  const extra = onlyKeys(raw, ["devices", "range"], "history request");
  if (extra) return { ok: false, error: extra };
  const { devices, range } = raw;
  if (
    !Array.isArray(devices) ||
    devices.length === 0 ||
    devices.length > 100 ||
    !devices.every((d) => typeof d === "string" && /^[A-Za-z0-9_.-]{1,64}$/.test(d))
  ) {
    return { ok: false, error: "devices must be a list of 1-100 device ids (1-64 letters, digits, _ . or -)" };
  }
  if (!isHistoryRange(range)) return { ok: false, error: 'range must be "1h", "24h" or "7d"' };
  return { ok: true, value: { devices: [...new Set(devices as string[])], range } };
}

/** Per-socket command budget: a burst of `capacity`, then `refillPerSec` (a stuck key or a script cannot flood the relays). */
export class TokenBucket {
  #tokens: number;
  #last: number;
  readonly capacity: number;
  readonly refillPerSec: number;
  #now: () => number;

  constructor(capacity: number, refillPerSec: number, now: () => number = Date.now) {
    if (!(capacity >= 1) || !(refillPerSec > 0))
      throw new RangeError(`Invalid token bucket ${capacity}/${refillPerSec}`);
    this.capacity = capacity;
    this.refillPerSec = refillPerSec;
    this.#now = now;
    this.#tokens = capacity;
    this.#last = now();
  }

  take(): boolean {
    const now = this.#now();
    this.#tokens = Math.min(this.capacity, this.#tokens + ((now - this.#last) / 1000) * this.refillPerSec);
    this.#last = now;
    if (this.#tokens < 1) return false;
    this.#tokens -= 1;
    return true;
  }
}
