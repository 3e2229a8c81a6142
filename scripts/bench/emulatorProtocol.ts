// Messages between the bench process and the emulator child (emulatorChild.ts).
import type { EmulatorOptions } from "../emulator/index.ts";

/** Emulator options that survive IPC (no logger). */
export type ChildEmulatorOptions = Omit<EmulatorOptions, "log" | "tls">;

export type ChildRequest =
  | { id: number; op: "start"; options: ChildEmulatorOptions }
  | { id: number; op: "counts" }
  | { id: number; op: "rpcSequential"; device: string; method: string; params: unknown; n: number; timeoutMs: number }
  | {
      id: number;
      op: "rpcConcurrent";
      device: string;
      method: string;
      params: unknown;
      n: number;
      inFlight: number;
      timeoutMs: number;
    }
  | { id: number; op: "pause" }
  | { id: number; op: "resume" }
  | { id: number; op: "stop" };

export type ChildReply = { id: number; ok: true; value: unknown } | { id: number; ok: false; error: string };

export interface DeliveryCounts {
  /** Data points (keys of every telemetry record) the emulator accepted. */
  points: number;
  records: number;
  /** PUBLISH packets received (all topics). */
  messages: number;
  /** Wall-clock ms of the first telemetry record, null before. */
  firstTelemetryAt: number | null;
  /** The child's own CPU time so far, microseconds. */
  cpuMicros: number;
}

export interface RpcLoadResult {
  latenciesMs: number[];
  failed: number;
}
