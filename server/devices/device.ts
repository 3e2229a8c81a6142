// What the runtime, the RPC dispatcher and the bridge need from a device.
import type { DeviceInfo, DeviceSnapshot } from "../events.ts";

/** A refusal the caller should see as an RPC error reply (bad params, pin not exposed...). */
export class RpcError extends Error {
  readonly code: "BAD_PARAMS" | "NOT_ALLOWED" | "UNKNOWN_METHOD" | "UNKNOWN_DEVICE" | "DEVICE_ERROR" | "RATE_LIMITED";
  constructor(code: RpcError["code"], message: string) {
    super(message);
    this.name = "RpcError";
    this.code = code;
  }
}

export type RpcHandler = (params: unknown) => Promise<unknown>;

export interface ManagedDevice {
  readonly info: DeviceInfo;
  /** RPC methods this device answers, by name. */
  readonly rpc: Readonly<Record<string, RpcHandler>>;
  start(): Promise<void>;
  /** Release hardware; outputs go to their safe state first. */
  stop(): Promise<void>;
  snapshot(): DeviceSnapshot;
  /** Shared attributes from ThingsBoard (or restored from disk at start-up). */
  applyShared(data: Record<string, unknown>, deleted: string[]): void;
  /** Shared attribute keys to request from ThingsBoard after each connect. */
  sharedKeys(): string[];
  /** ThingsBoard connection went up or down (outputs may go safe after a while offline). */
  setOnline(online: boolean): void;
  rename(name: string): void;
}
