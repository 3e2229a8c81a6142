// The dashboard's wire contract (socket.io events and JSON endpoints), shared as types by the
// server and the page (web/ imports this file with `import type` only).
import type { DeviceHistory } from "../history/historyRecorder.ts";
import type { HistoryRange } from "../history/tiers.ts";
import type {
  AppSnapshot,
  ConnectionStatus,
  DeviceSnapshot,
  EventLogEntry,
  I2cScanEntry,
  OutboxStatus,
} from "../events.ts";

export type Role = "admin" | "viewer";

/** Reply to every client request with an ack callback; errors are replies, never silence. */
export type Ack<T = unknown> = { ok: true; data: T } | { ok: false; error: string; data?: unknown };

/** What the page sends with `control`; validated by server/http/controlRequest.ts. */
export interface ControlRequest {
  device: string;
  method: "setGpioStatus" | "toggle_gpio" | "getGpioStatus" | "read_now" | "setPwm" | "getPwm";
  params?: unknown;
}

/** What the page sends with `history`; validated by server/http/controlRequest.ts. */
export interface HistoryRequest {
  /** Local device ids. */
  devices: string[];
  range: HistoryRange;
}

export interface ClaimRequest {
  devices?: string[];
}

export interface ClaimInfo {
  device: string;
  until: number;
}

/** Server -> page. After every (re)connect the first event is `snapshot`; the rest are deltas. */
export interface ServerToClientEvents {
  snapshot: (snapshot: AppSnapshot) => void;
  /** Latest state of each device that changed since the last flush (coalesced, ~10/s at most). */
  device: (devices: DeviceSnapshot[]) => void;
  connection: (status: ConnectionStatus) => void;
  outbox: (status: OutboxStatus) => void;
  /** New event-log entries since the last flush, oldest first. */
  event: (entries: EventLogEntry[]) => void;
  claim: (info: ClaimInfo) => void;
  i2c: (entries: I2cScanEntry[]) => void;
  /** A request without an ack callback that was refused. */
  error: (message: string) => void;
}

export interface ClientToServerEvents {
  control: (request: unknown, ack?: (reply: Ack) => void) => void;
  scan: (ack?: (reply: Ack<I2cScanEntry[]>) => void) => void;
  claim: (request: unknown, ack?: (reply: Ack<{ devices: string[]; until: number }>) => void) => void;
  /** Chart history of one device; viewers may ask too (it is read-only). */
  history: (request: unknown, ack?: (reply: Ack<DeviceHistory[]>) => void) => void;
  /** Devices added from the dashboard (admin): add {device}, edit {id, device}, remove {id}; the YAML export. */
  deviceAdd: (request: unknown, ack?: (reply: Ack<{ id: string }>) => void) => void;
  deviceUpdate: (request: unknown, ack?: (reply: Ack<{ id: string }>) => void) => void;
  deviceRemove: (request: unknown, ack?: (reply: Ack<{ id: string }>) => void) => void;
  devicesExport: (ack?: (reply: Ack<string>) => void) => void;
  /** Ask for a fresh snapshot (it arrives as a `snapshot` event). */
  sync: () => void;
}

/** GET /api/session */
export interface SessionInfo {
  authenticated: boolean;
  role: Role | null;
  /** No password is configured: the page must show the console-code setup step. */
  setupRequired: boolean;
  viewerEnabled: boolean;
}

/** POST /api/update/upload (admin, the package as the body): accepted; the appliance restarts into it. */
export interface UploadReply {
  ok: true;
  version: string;
  sha256: string;
  state: "UPDATING";
}
