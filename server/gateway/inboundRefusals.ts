// What the bridge refuses from the server, and how each refusal is still answered where it can
// be (issue 12): RPCs past the admission bounds get a BUSY error reply (paced by BusyReplies),
// and a message dropped by the inbound size guard is counted and, if it was an RPC to the
// gateway itself (whose id is in the topic), answered with TOO_LARGE.
import type { Logger } from "../util/logger.ts";
import { preview } from "../util/json.ts";
import { BusyReplies } from "./busyReplies.ts";
import type { OversizePublish } from "./inboundSizeGuard.ts";
import { TOPIC } from "./protocol.ts";
import { RpcAdmission, type RpcAdmissionLimits } from "./rpcAdmission.ts";

export interface RefusalCounters {
  oversized: number;
  rpcRejected: number;
}

export class InboundRefusals {
  readonly admission: RpcAdmission;
  readonly busyReplies: BusyReplies;
  readonly #publish: (topic: string, payload: string) => Promise<void>;
  readonly #log: Logger;
  readonly #counters: RefusalCounters;

  constructor(o: {
    limits?: RpcAdmissionLimits | undefined;
    publish: (topic: string, payload: string) => Promise<void>;
    log: Logger;
    counters: RefusalCounters;
  }) {
    this.admission = new RpcAdmission(o.limits);
    this.busyReplies = new BusyReplies(o.publish);
    this.#publish = o.publish;
    this.#log = o.log;
    this.#counters = o.counters;
  }

  /** Runs a sub-device RPC within the bounds, or answers it BUSY. */
  deviceRpc(req: { device: string; id: number }, run: () => Promise<void>): void {
    if (!this.admission.submit(run))
      this.#refuseBusy(TOPIC.gwRpc, { device: req.device, id: req.id, data: busyReply() });
  }

  /** Runs an RPC to the gateway itself within the bounds, or answers it BUSY. */
  ownRpc(requestId: string | number, run: () => Promise<void>): void {
    if (!this.admission.submit(run)) this.#refuseBusy(`${TOPIC.meRpcResponsePrefix}${requestId}`, busyReply());
  }

  /** The connection is gone: nothing queued could be answered on it any more. */
  connectionLost(): void {
    this.admission.clearQueue();
    this.busyReplies.clear();
  }

  oversize(p: OversizePublish): void {
    this.#counters.oversized++;
    this.#log.warn(
      `refused a ${p.bytes}-byte message from the server on ${preview(p.topic, 120)}: over the inbound size limit (thingsboard.maxInboundBytes)`,
      { bytes: p.bytes },
    );
    // A sub-device RPC's id is inside the dropped payload: ThingsBoard times that one out.
    if (!p.topic.startsWith(TOPIC.meRpcRequestPrefix)) return;
    const id = p.topic.slice(TOPIC.meRpcRequestPrefix.length);
    if (!/^\d{1,10}$/.test(id)) return;
    const body = {
      success: false,
      error: `request of ${p.bytes} bytes is over the gateway's inbound size limit`,
      code: "TOO_LARGE",
    };
    void this.#publish(`${TOPIC.meRpcResponsePrefix}${id}`, JSON.stringify(body)).catch(() => {});
  }

  #refuseBusy(topic: string, body: unknown): void {
    const n = ++this.#counters.rpcRejected;
    if (n === 1 || n % 1000 === 0) this.#log.warn(`too many RPCs from the server at once: ${n} refused so far (busy)`);
    this.busyReplies.add(topic, JSON.stringify(body));
  }
}

function busyReply(): { success: false; error: string; code: string } {
  return { success: false, error: "gateway busy: too many RPCs in progress, try again later", code: "BUSY" };
}
