// The one RPC dispatcher: ThingsBoard RPC and dashboard clicks land here. A lookup table of
// handlers per device; it always answers, with an error reply for an unknown device, an
// unknown method or bad params, never with silence (the caller would wait for a 408).
import type { EventBus } from "../eventBus.ts";
import { RpcError } from "../devices/device.ts";
import type { DeviceRuntime } from "../devices/runtime.ts";
import type { Logger } from "../util/logger.ts";
import type { RpcDispatcher, RpcReply, RpcRequest } from "./types.ts";
import { preview } from "../util/json.ts";

export class DeviceRpcDispatcher implements RpcDispatcher {
  #runtime: DeviceRuntime;
  #bus: EventBus;
  #log: Logger;
  readonly stats = { handled: 0, errors: 0 };

  constructor(runtime: DeviceRuntime, bus: EventBus, log: Logger) {
    this.#runtime = runtime;
    this.#bus = bus;
    this.#log = log;
  }

  async dispatch(req: RpcRequest): Promise<RpcReply> {
    const reply = await this.#answer(req);
    this.stats.handled++;
    if (!reply.ok) this.stats.errors++;
    // The dashboard addresses devices by id and ThingsBoard by name: the log names them one way.
    const device =
      typeof req.device === "string" ? (this.#runtime.find(req.device)?.info.name ?? req.device) : String(req.device);
    const outcome = reply.ok ? `-> ${preview(reply.data, 200)}` : `failed: ${errorOf(reply.data)}`;
    const text = `${req.source === "dashboard" ? "dashboard" : "ThingsBoard"} RPC ${preview(req.method, 60)}(${preview(req.params, 200)}) ${outcome}`;
    this.#bus.emit("eventLog", { ts: Date.now(), kind: "rpc", device, text, ok: reply.ok });
    if (reply.ok) this.#log.info(text, { device });
    else this.#log.warn(text, { device });
    return reply;
  }

  async #answer(req: RpcRequest): Promise<RpcReply> {
    if (typeof req.method !== "string" || req.method.length === 0 || req.method.length > 128)
      return error("BAD_PARAMS", "method must be a non-empty string");
    const device = typeof req.device === "string" ? this.#runtime.find(req.device) : undefined;
    if (!device) return error("UNKNOWN_DEVICE", `unknown device ${preview(req.device, 100)}`);
    const handler = Object.prototype.hasOwnProperty.call(device.rpc, req.method) ? device.rpc[req.method] : undefined;
    if (!handler)
      return error(
        "UNKNOWN_METHOD",
        `unknown method ${preview(req.method, 60)} for ${device.info.name} (supported: ${Object.keys(device.rpc).join(", ")})`,
      );
    try {
      return { ok: true, data: await handler(req.params) };
    } catch (err) {
      if (err instanceof RpcError) return error(err.code, err.message);
      this.#log.error(`RPC ${req.method} on ${device.info.name} failed: ${(err as Error).message}`);
      return error("DEVICE_ERROR", (err as Error).message);
    }
  }
}

function error(code: string, message: string): RpcReply {
  return { ok: false, data: { success: false, error: message, code } };
}

function errorOf(data: unknown): string {
  const e = typeof data === "object" && data !== null ? (data as { error?: unknown }).error : undefined;
  return typeof e === "string" ? e : preview(data, 200);
}
