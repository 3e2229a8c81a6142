// What every device gets from the runtime: the bus, a logger, and a small persisted record
// (last applied shared attributes), so a restart while offline keeps remote settings.
import type { EventBus } from "../eventBus.ts";
import type { DeviceSnapshot } from "../events.ts";
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
  /** Where ThingsBoard's renames and deletions are kept across restarts (state.json). */
  names?: DeviceNameStore;
  /** Held messages of a device ThingsBoard refused (device limit), shown with its snapshot. */
  parked?: (name: string) => DeviceSnapshot["parked"];
}

/**
 * What ThingsBoard did to a configured device, keyed by device id. `configured` is the name the
 * config gave it when that happened: once the config names the device differently, the record
 * no longer applies (the device was configured again).
 */
export interface DeviceNameRecord {
  configured: string;
  /** The name ThingsBoard uses now (gateway_device_renamed). */
  name?: string;
  /** Deleted in ThingsBoard (gateway_device_deleted): stays stopped. */
  deleted?: boolean;
}

export interface DeviceNameStore {
  load(): Record<string, DeviceNameRecord>;
  save(id: string, record: DeviceNameRecord | null): void;
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
