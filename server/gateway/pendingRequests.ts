// Requests the gateway makes and the server answers later: attribute requests for sub-devices
// (matched by device and id, §4.4), and the gateway's own client RPC and attribute requests
// (matched by the id in the topic, §3.3/§3.6). Every request has a timeout; a lost connection
// fails them all at once (ThingsBoard answers only on the session that asked).
import {
  encodeOutbound,
  TOPIC,
  type GwAttributeResponse,
  type GwAttributesRequestMsg,
  type MeAttributesRequestMsg,
} from "./protocol.ts";

export class RequestTimeoutError extends Error {
  constructor(what: string, ms: number) {
    super(`${what}: no answer within ${ms} ms`);
    this.name = "RequestTimeoutError";
  }
}

interface Pending<T> {
  resolve: (v: T) => void;
  reject: (e: Error) => void;
  timer: NodeJS.Timeout;
}

export type Publish = (topic: string, payload: string) => Promise<void>;

export class PendingRequests {
  #nextId = 1;
  #attr = new Map<string, Pending<Record<string, unknown>>>();
  #attrKeys = new Map<string, string[]>();
  #me = new Map<number, Pending<unknown>>();
  #publish: Publish;
  #timeoutMs: number;

  constructor(publish: Publish, timeoutMs: number) {
    this.#publish = publish;
    this.#timeoutMs = timeoutMs;
  }

  get size(): number {
    return this.#attr.size + this.#me.size;
  }

  #id(): number {
    const id = this.#nextId;
    this.#nextId = this.#nextId >= 2_000_000_000 ? 1 : this.#nextId + 1;
    return id;
  }

  /**
   * Request a sub-device's client or shared attributes. Resolves with key -> value for the keys
   * that exist (the server answers "value" for one requested key, "values" for several, neither
   * when none was found). `form` picks the request shape; both are valid on the wire.
   */
  attributes(
    device: string,
    keys: string[],
    client: boolean,
    form: "key" | "keys" = keys.length === 1 ? "key" : "keys",
    timeoutMs = this.#timeoutMs,
  ): Promise<Record<string, unknown>> {
    const id = this.#id();
    const msg: GwAttributesRequestMsg =
      form === "key" && keys.length === 1
        ? { id, device, client, key: keys[0] as string }
        : { id, device, client, keys };
    const k = `${device}\u0000${id}`;
    this.#attrKeys.set(k, keys);
    return this.#track(
      this.#attr,
      k,
      `attribute request ${id} for ${device}`,
      timeoutMs,
      () => this.#publish(TOPIC.gwAttributesRequest, encodeOutbound(TOPIC.gwAttributesRequest, msg)),
      () => this.#attrKeys.delete(k),
    );
  }

  /** Returns false when nothing was waiting for this response (late, duplicate or foreign). */
  resolveAttributes(r: GwAttributeResponse): boolean {
    const k = `${r.device}\u0000${r.id}`;
    const p = this.#attr.get(k);
    if (!p) return false;
    const keys = this.#attrKeys.get(k) ?? [];
    this.#attr.delete(k);
    this.#attrKeys.delete(k);
    clearTimeout(p.timer);
    let out: Record<string, unknown> = {};
    if (r.hasValues && r.values) out = { ...r.values };
    else if (r.hasValue && keys.length === 1) out = { [keys[0] as string]: r.value };
    else if (r.hasValue) out = { value: r.value };
    p.resolve(out);
    return true;
  }

  /** Client-side RPC from the gateway device itself (e.g. getSessionLimits). */
  clientRpc(method: string, params: unknown, timeoutMs = this.#timeoutMs): Promise<unknown> {
    const id = this.#id();
    return this.#track(this.#me, id, `client RPC ${method}`, timeoutMs, () =>
      this.#publish(`${TOPIC.meRpcRequestPrefix}${id}`, encodeOutbound(TOPIC.meRpcRequestPrefix, { method, params })),
    );
  }

  /** The gateway's own attributes: {client, shared}. */
  ownAttributes(clientKeys: string[], sharedKeys: string[], timeoutMs = this.#timeoutMs): Promise<unknown> {
    const id = this.#id();
    const body: MeAttributesRequestMsg = {};
    if (clientKeys.length) body.clientKeys = clientKeys.join(",");
    if (sharedKeys.length) body.sharedKeys = sharedKeys.join(",");
    return this.#track(this.#me, id, "attribute request", timeoutMs, () =>
      this.#publish(`${TOPIC.meAttributesRequestPrefix}${id}`, encodeOutbound(TOPIC.meAttributesRequestPrefix, body)),
    );
  }

  resolveOwn(requestId: number, payload: unknown): boolean {
    const p = this.#me.get(requestId);
    if (!p) return false;
    this.#me.delete(requestId);
    clearTimeout(p.timer);
    p.resolve(payload);
    return true;
  }

  /** Fail everything waiting (connection lost, shutdown). */
  failAll(reason: string): void {
    for (const map of [this.#attr, this.#me] as Array<Map<unknown, Pending<never>>>) {
      for (const p of map.values()) {
        clearTimeout(p.timer);
        p.reject(new Error(reason));
      }
      map.clear();
    }
    this.#attrKeys.clear();
  }

  #track<K, T>(
    map: Map<K, Pending<T>>,
    key: K,
    what: string,
    timeoutMs: number,
    send: () => Promise<void>,
    cleanup?: () => void,
  ): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        map.delete(key);
        cleanup?.();
        reject(new RequestTimeoutError(what, timeoutMs));
      }, timeoutMs);
      map.set(key, { resolve, reject, timer });
      send().catch((err: Error) => {
        if (!map.has(key)) return;
        map.delete(key);
        cleanup?.();
        clearTimeout(timer);
        reject(err);
      });
    });
  }
}
