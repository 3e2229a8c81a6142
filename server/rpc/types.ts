// The one RPC path: ThingsBoard RPC and dashboard clicks both become an RpcRequest that the
// dispatcher answers. It always answers: errors are replies, never silence or exceptions.

export type RpcSource = "thingsboard" | "dashboard" | "gateway";

export interface RpcRequest {
  /** ThingsBoard device name, or the local device id from the config. */
  device: string;
  method: string;
  params: unknown;
  source: RpcSource;
}

/** ok=false replies carry data {error: "...", code: "..."}: sent to ThingsBoard as the RPC reply. */
export interface RpcReply {
  ok: boolean;
  data: unknown;
}

export interface RpcDispatcher {
  dispatch(req: RpcRequest): Promise<RpcReply>;
}
