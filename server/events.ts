// Every event that crosses a feature boundary, with its payload type.
// Hardware events flow one way: driver -> device runtime -> bus -> gateway bridge and dashboard.
import type { HeaderPin } from "./config/gpioHeader.ts";
import type { Reading, ReadingValue, ReadingValues } from "./readings.ts";

export type Health = "ok" | "degraded" | "offline";

export interface PinInfo {
  pin: number;
  label: string;
}

/** A PWM output as the dashboard shows it: a slider from min to max in unit (duty 0-1, or µs for a servo). */
export interface PwmInfo {
  pin: number;
  label: string;
  mode: "duty" | "servo";
  min: number;
  max: number;
  step: number;
  unit: string;
}

/** What a device is, as the dashboard and the bridge see it. */
export interface DeviceInfo {
  /** Local id from the config. */
  id: string;
  /** ThingsBoard device name (unique across the fleet). */
  name: string;
  /** ThingsBoard device type (profile). */
  profile: string;
  kind: "gpio" | "sensor" | "pwm";
  chip?: string;
  units: Record<string, string>;
  outputs?: PinInfo[];
  inputs?: PinInfo[];
  pwm?: PwmInfo[];
}

export interface DeviceSnapshot extends DeviceInfo {
  values: Record<string, ReadingValue>;
  /** ms since epoch of the last reading or change, null before the first. */
  updatedAt: number | null;
  health: Health;
  error?: string;
  /** ThingsBoard refused the device (the tenant's device limit): its messages are held (issue 10). */
  parked?: { messages: number; points: number; retryAt: number };
  /** "page": added from the dashboard (editable there); absent: from the main config file. */
  source?: "page";
  /** For a device added from the dashboard: its entry as stored, to fill the edit form. */
  pageConfig?: Record<string, unknown>;
}

export type ConnectionState = "connecting" | "connected" | "backoff" | "authFailed" | "stopped";

export interface ConnectionStatus {
  state: ConnectionState;
  /** When the current state began. */
  since: number;
  /** host:port */
  server: string;
  mqttVersion: 4 | 5;
  reconnects: number;
  lastError?: string;
  nextRetryAt?: number;
}

export interface OutboxStatus {
  /** Messages waiting (memory + disk), not yet acknowledged by the server. */
  queued: number;
  /** Of those, how many are on disk. */
  onDisk: number;
  /** Data points waiting. */
  points: number;
  /** ts of the oldest waiting message, null when empty. */
  oldestTs: number | null;
  /** Messages dropped by the overflow policy (drop oldest) since start. */
  dropped: number;
  diskBytes: number;
  diskFull: boolean;
  /** Messages set aside because the server kept refusing them (issue 12; outbox/deadLetters.ts). */
  deadLetters?: number;
}

export interface EventLogEntry {
  ts: number;
  kind: "rpc" | "attributes" | "claim" | "error" | "connection" | "info";
  /** ThingsBoard name of the device, the same in every entry about it. */
  device?: string;
  text: string;
  /** false: a request that failed or was refused (shown as failed). */
  ok?: boolean;
}

export interface AppEvents {
  /** A reading or state change that should go to ThingsBoard as telemetry. */
  telemetry: [device: string, record: Reading];
  /** Client attributes to publish for a device (or the gateway itself when device is ""). */
  clientAttributes: [device: string, values: ReadingValues];
  /** A device's live state changed (dashboard). */
  deviceUpdated: [snapshot: DeviceSnapshot];
  /** The set of devices changed (added, removed, renamed). */
  devicesChanged: [];
  /** Shared attributes arrived from ThingsBoard for a device (by ThingsBoard name). */
  sharedAttributes: [device: string, data: Record<string, unknown>, deleted: string[]];
  connection: [status: ConnectionStatus];
  outbox: [status: OutboxStatus];
  eventLog: [entry: EventLogEntry];
  /** A claim window was opened for a device. */
  claimWindow: [info: { device: string; until: number }];
}

export interface AppInfo {
  version: string;
  /** Unit identity used in device names. */
  unit: string;
  hostname: string;
  startedAt: number;
  uptimeSec: number;
  cpuTempC: number | null;
  memory: { totalBytes: number; freeBytes: number; rssBytes: number };
  disk: { totalBytes: number; freeBytes: number } | null;
  hardware: "sim" | "pi";
}

/** Where a software update came from: ThingsBoard OTA, or a package uploaded on the dashboard. */
export type UpdateSource = { kind: "thingsboard" } | { kind: "upload"; by: string };

/** The appliance's own software update (server/features/ota; sw_state values of ThingsBoard). */
export interface UpdateStatus {
  running: { title: string; version: string };
  state?: "DOWNLOADING" | "DOWNLOADED" | "VERIFIED" | "UPDATING" | "UPDATED" | "FAILED";
  target?: { title: string; version: string; size: number };
  received?: number;
  /** Of the update in progress (or the last one tried). */
  source?: UpdateSource;
  error?: string;
  last?: {
    state: "UPDATED" | "FAILED";
    title: string;
    version: string;
    error?: string;
    ts: number;
    source?: UpdateSource;
  };
  /** This release was just switched to and must prove healthy or be rolled back. */
  trial: boolean;
}

export interface I2cScanEntry {
  bus: number;
  address: number;
  /** Identified chip ("bme280", ...) or null when the address answers but is not recognised. */
  chip: string | null;
  /** Whether a configured device already uses this chip. */
  configured: boolean;
}

/** Everything the dashboard shows; sent whole on every (re)connect, then kept current by events. */
export interface AppSnapshot {
  app: AppInfo;
  connection: ConnectionStatus;
  outbox: OutboxStatus | null;
  devices: DeviceSnapshot[];
  events: EventLogEntry[];
  i2c: I2cScanEntry[] | null;
  /** The 40-pin header with what the configuration puts on each pin (server/config/gpioHeader.ts). */
  header: HeaderPin[];
  /** Ids of devices with a claim section (the claim button only shows when there is one). */
  claimable: string[];
  /** Over-the-air update state; null when gateway.ota.enabled is false. */
  update?: UpdateStatus | null;
}
