// Server-side RPC as the device actor runs it (reference §3.5, §4.6; DeviceActorMessageProcessor):
// per-device ids from 0, requests kept pending until a session can take them (BURST strategy),
// one-way answered once written, two-way answered by the device's reply or a timeout, and
// "no active connection" when it expires unsent.

export type RpcOutcome =
  | { kind: "reply"; data: unknown }
  /** Reply from a device's own rpc/response topic: raw text, parsed by the REST layer. */
  | { kind: "rawReply"; text: string }
  | { kind: "sent" }
  | { kind: "timeout" }
  | { kind: "noConnection" };

export interface RpcRequest {
  deviceId: string;
  id: number;
  method: string;
  params: unknown;
  twoWay: boolean;
  sent: boolean;
}

interface Pending extends RpcRequest {
  timer: NodeJS.Timeout;
  resolve: (o: RpcOutcome) => void;
}

/** Writes a request to whichever session serves the device; false when none can take it now. */
export type RpcDeliver = (rpc: RpcRequest) => boolean;

export class RpcManager {
  private readonly seq = new Map<string, number>();
  private readonly pending = new Map<string, Map<number, Pending>>();

  constructor(private readonly deliver: RpcDeliver) {}

  submit(deviceId: string, method: string, params: unknown, twoWay: boolean, timeoutMs: number): Promise<RpcOutcome> {
    const id = this.seq.get(deviceId) ?? 0;
    this.seq.set(deviceId, id + 1);
    return new Promise<RpcOutcome>((resolve) => {
      const rpc: Pending = {
        deviceId,
        id,
        method,
        params,
        twoWay,
        sent: false,
        resolve,
        timer: setTimeout(() => this.expire(deviceId, id), Math.max(0, timeoutMs)),
      };
      rpc.timer.unref();
      let byId = this.pending.get(deviceId);
      if (!byId) this.pending.set(deviceId, (byId = new Map()));
      byId.set(id, rpc);
      this.tryDeliver(rpc);
    });
  }

  /** Pushes every unsent request of the device (a sub-session opened, or an RPC subscription arrived). */
  flush(deviceId: string): void {
    const byId = this.pending.get(deviceId);
    if (!byId) return;
    for (const rpc of [...byId.values()].sort((a, b) => a.id - b.id)) if (!rpc.sent) this.tryDeliver(rpc);
  }

  /** A reply for (device, id): completes a sent two-way request; anything else is stale and ignored. */
  complete(deviceId: string, id: number, outcome: RpcOutcome): boolean {
    const rpc = this.pending.get(deviceId)?.get(id);
    if (!rpc || !rpc.sent || !rpc.twoWay) return false;
    this.finish(rpc, outcome);
    return true;
  }

  /** The device is gone: pending requests end as never delivered. */
  dropDevice(deviceId: string): void {
    const byId = this.pending.get(deviceId);
    if (byId) for (const rpc of Array.from(byId.values())) this.finish(rpc, { kind: "noConnection" });
    this.pending.delete(deviceId);
    this.seq.delete(deviceId);
  }

  pendingCount(deviceId?: string): number {
    if (deviceId !== undefined) return this.pending.get(deviceId)?.size ?? 0;
    let n = 0;
    for (const m of this.pending.values()) n += m.size;
    return n;
  }

  stop(): void {
    for (const byId of this.pending.values())
      for (const rpc of Array.from(byId.values())) this.finish(rpc, { kind: "noConnection" });
    this.pending.clear();
  }

  private tryDeliver(rpc: Pending): void {
    if (!this.deliver(rpc)) return;
    rpc.sent = true;
    // A one-way request is done once written (§3.5 REST side).
    if (!rpc.twoWay) this.finish(rpc, { kind: "sent" });
  }

  private expire(deviceId: string, id: number): void {
    const rpc = this.pending.get(deviceId)?.get(id);
    if (rpc) this.finish(rpc, rpc.sent ? { kind: "timeout" } : { kind: "noConnection" });
  }

  private finish(rpc: Pending, outcome: RpcOutcome): void {
    clearTimeout(rpc.timer);
    this.pending.get(rpc.deviceId)?.delete(rpc.id);
    rpc.resolve(outcome);
  }
}

/**
 * HTTP status and body for an outcome: v1 (/api/plugins/rpc) gives 408/409, v2 (/api/rpc) 504
 * for both. Errors carry NO body: AbstractRpcController.reply sets `new ResponseEntity<>(status)`
 * for TIMEOUT, NO_ACTIVE_CONNECTION and a reply that is not JSON (406). `body` undefined = empty.
 */
export function rpcHttpResult(outcome: RpcOutcome, api: "v1" | "v2"): { status: number; body?: unknown } {
  switch (outcome.kind) {
    case "reply":
      return { status: 200, body: outcome.data };
    case "rawReply":
      try {
        return { status: 200, body: JSON.parse(outcome.text) as unknown };
      } catch {
        return { status: 406 };
      }
    case "sent":
      return { status: 200 };
    case "timeout":
      return { status: api === "v1" ? 408 : 504 };
    case "noConnection":
      return { status: api === "v1" ? 409 : 504 };
  }
}
