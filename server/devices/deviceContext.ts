// What every device gets from the runtime: the bus, a logger, and a small persisted record
// (last applied shared attributes), so a restart while offline keeps remote settings.
import type { EventBus } from "../eventBus.ts";
import type { Logger } from "../util/logger.ts";

export interface DeviceMemory {
  load(deviceId: string): Record<string, unknown>;
  save(deviceId: string, data: Record<string, unknown>): void;
}

export interface DeviceContext {
  bus: EventBus;
  log: Logger;
  memory: DeviceMemory;
  now?: () => number;
}

/** In-memory DeviceMemory, for tests and when no data dir is writable. */
export class MemoryDeviceMemory implements DeviceMemory {
  #m = new Map<string, Record<string, unknown>>();
  load(id: string): Record<string, unknown> {
    return { ...this.#m.get(id) };
  }
  save(id: string, data: Record<string, unknown>): void {
    this.#m.set(id, { ...data });
  }
}
