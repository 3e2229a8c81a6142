// The listeners TbConnection reports to. Each one runs in its own try/catch: a failing bridge or dashboard
// handler is logged and must never break the connection's own state machine or the other listeners.
import type { ConnectionStatus } from "../events.ts";
import type { Logger } from "../util/logger.ts";
import type { OversizePublish } from "./inboundSizeGuard.ts";

export class ConnectionListeners {
  readonly connected = new Set<() => void>();
  readonly disconnected = new Set<() => void>();
  readonly message = new Set<(topic: string, payload: Buffer) => void>();
  readonly status = new Set<(s: ConnectionStatus) => void>();
  readonly oversize = new Set<(p: OversizePublish) => void>();
  readonly #log: Logger;

  constructor(log: Logger) {
    this.#log = log;
  }

  emit(kind: "connected" | "disconnected"): void {
    for (const cb of this[kind]) {
      try {
        cb();
      } catch (err) {
        this.#log.error(`connection ${kind} listener failed: ${(err as Error).message}`);
      }
    }
  }

  emitStatus(s: ConnectionStatus): void {
    for (const cb of this.status) {
      try {
        cb(s);
      } catch {
        /* status listeners must not break the connection */
      }
    }
  }

  emitMessage(topic: string, payload: Buffer): void {
    for (const cb of this.message) {
      try {
        cb(topic, payload);
      } catch (err) {
        this.#log.error(`message handler failed on ${topic}: ${(err as Error).message}`);
      }
    }
  }

  emitOversize(p: OversizePublish): void {
    for (const cb of this.oversize) {
      try {
        cb(p);
      } catch (err) {
        this.#log.error(`oversize handler failed: ${(err as Error).message}`);
      }
    }
  }
}
