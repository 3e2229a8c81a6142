// A fake DashboardContext for dashboard tests: the real EventBus, a mutable snapshot with one
// GPIO device (relay + button) and one BME280, and a recording RPC dispatcher that behaves like
// the real one for GPIO methods (updates the snapshot and emits deviceUpdated).
import { headerView } from "../../server/config/gpioHeader.ts";
import { configSchema, type ConfigInput } from "../../server/config/schema.ts";
import { EventBus } from "../../server/eventBus.ts";
import type { AppSnapshot, DeviceSnapshot, I2cScanEntry } from "../../server/events.ts";
import type { DeviceHistory } from "../../server/history/historyRecorder.ts";
import type { HistoryRange } from "../../server/history/tiers.ts";
import type { DashboardContext } from "../../server/http/dashboardServer.ts";
import type { OtaUploadApi } from "../../server/http/updateUpload.ts";
import type { RpcReply, RpcRequest } from "../../server/rpc/types.ts";
import { silentLogger, type Logger } from "../../server/util/logger.ts";
import { tempDir } from "./tempDir.ts";

export interface FakeDashboard {
  ctx: DashboardContext;
  bus: EventBus;
  state: AppSnapshot;
  rpcCalls: RpcRequest[];
  scanCalls: number;
  claimCalls: (string[] | undefined)[];
  /** Stored chart history per device id, as the HistoryRecorder would answer it. */
  history: Map<string, DeviceHistory["series"]>;
  historyCalls: Array<{ device: string; range: HistoryRange }>;
  /** Replace the dispatcher's behaviour (default: simulated GPIO). */
  rpcHandler: (req: RpcRequest) => Promise<RpcReply>;
  /** Set a device's values in the snapshot and emit deviceUpdated, as the device runtime would. */
  update(
    id: string,
    values: Record<string, string | number | boolean>,
    patch?: Partial<DeviceSnapshot>,
  ): DeviceSnapshot;
  device(id: string): DeviceSnapshot;
}

export interface FakeDashboardOptions {
  dashboard?: ConfigInput["dashboard"];
  dataDir?: string;
  log?: Logger;
  gateway?: ConfigInput["gateway"];
  /** The updater a package uploaded on the dashboard goes to (test/fakes/otaLink.ts testUpdater). */
  otaUpload?: OtaUploadApi | null;
}

/** Value key of a GPIO pin: its label, which defaults to "gpio<pin>" (as server/devices/gpioDevice.ts does). */
export function pinKey(device: DeviceSnapshot, pin: number): string {
  const p = [...(device.outputs ?? []), ...(device.inputs ?? [])].find((x) => x.pin === pin);
  return p?.label ?? `gpio${pin}`;
}

export function initialSnapshot(now = Date.now()): AppSnapshot {
  return {
    app: {
      version: "0.1.0-test",
      unit: "testpi",
      hostname: "testpi",
      startedAt: now - 3_600_000,
      uptimeSec: 3600,
      cpuTempC: 47.2,
      memory: { totalBytes: 4 * 2 ** 30, freeBytes: 3 * 2 ** 30, rssBytes: 80 * 2 ** 20 },
      disk: { totalBytes: 32 * 2 ** 30, freeBytes: 20 * 2 ** 30 },
      hardware: "sim",
    },
    connection: { state: "connected", since: now - 60_000, server: "127.0.0.1:1883", mqttVersion: 5, reconnects: 0 },
    outbox: { queued: 0, onDisk: 0, points: 0, oldestTs: null, dropped: 0, diskBytes: 0, diskFull: false },
    devices: [
      {
        id: "relays",
        name: "testpi relays",
        profile: "gpio",
        kind: "gpio",
        units: {},
        outputs: [
          { pin: 17, label: "Pump" },
          { pin: 22, label: "Light" },
        ],
        inputs: [{ pin: 27, label: "Door" }],
        values: { Pump: false, Light: true, Door: false },
        updatedAt: now - 5_000,
        health: "ok",
      },
      {
        id: "env",
        name: "testpi env",
        profile: "bme280",
        kind: "sensor",
        chip: "bme280",
        units: { temperature: "°C", humidity: "%", pressure: "hPa" },
        values: { temperature: 21.5, humidity: 40.1, pressure: 1013.2 },
        updatedAt: now - 2_000,
        health: "ok",
      },
    ],
    events: [{ ts: now - 10_000, kind: "info", text: "appliance started" }],
    i2c: null,
    claimable: ["relays"],
    header: headerView(
      {
        devices: [
          {
            id: "relays",
            kind: "gpio",
            outputs: [
              { pin: 17, label: "Pump", activeLow: false, safeState: 0 },
              { pin: 22, label: "Light", activeLow: false, safeState: 0 },
            ],
            inputs: [{ pin: 27, label: "Door", activeLow: false, debounceMs: 25, edge: "both" }],
            safeStateAfterOfflineSec: 0,
            outputRateLimit: { burst: 10, perSecond: 5 },
            report: { strategy: "onChange", threshold: 0, periodSec: 300, thresholds: {} },
          },
          {
            id: "env",
            kind: "sensor",
            chip: "bme280",
            bus: 1,
            intervalSec: 10,
            options: {},
            report: { strategy: "onChange", threshold: 0, periodSec: 300, thresholds: {} },
          },
        ],
        gateway: {
          statsPeriodSec: 60,
          allowReboot: false,
          remoteLogLevel: "warn",
          claimButton: { pin: 5, holdSec: 5, activeLow: true },
          ota: {
            enabled: true,
            chunkBytes: 32768,
            chunkTimeoutSec: 30,
            healthDeadlineSec: 180,
            maxUploadMb: 200,
            uploadTimeoutSec: 900,
          },
        },
      },
      true,
    ),
  };
}

export function createFakeDashboard(opts: FakeDashboardOptions = {}): FakeDashboard {
  const log = opts.log ?? silentLogger();
  const bus = new EventBus(log);
  const config = configSchema.parse({
    thingsboard: { host: "127.0.0.1", accessToken: "dashboard-test-token" },
    http: { port: 0, host: "127.0.0.1" },
    dashboard: opts.dashboard ?? { password: "correct horse" },
    ...(opts.gateway ? { gateway: opts.gateway } : {}),
  });
  const dataDir = opts.dataDir ?? tempDir("tbgw-dash-");
  const scanResult: I2cScanEntry[] = [
    { bus: 1, address: 0x76, chip: "bme280", configured: true },
    { bus: 1, address: 0x44, chip: "sht31", configured: false },
    { bus: 1, address: 0x50, chip: null, configured: false },
  ];

  const fake: FakeDashboard = {
    ctx: undefined as unknown as DashboardContext,
    bus,
    state: initialSnapshot(),
    rpcCalls: [],
    scanCalls: 0,
    claimCalls: [],
    history: new Map(),
    historyCalls: [],
    device(id) {
      const d = fake.state.devices.find((x) => x.id === id || x.name === id);
      if (!d) throw new Error(`no device ${id}`);
      return d;
    },
    update(id, values, patch = {}) {
      const d = fake.device(id);
      Object.assign(d, patch);
      d.values = { ...d.values, ...values };
      d.updatedAt = Date.now();
      bus.emit("deviceUpdated", structuredClone(d));
      return d;
    },
    rpcHandler: async (req) => {
      const d = fake.state.devices.find((x) => x.id === req.device || x.name === req.device);
      if (!d) return { ok: false, data: { error: `unknown device ${req.device}`, code: "NOT_FOUND" } };
      const p = (req.params ?? {}) as { pin?: number; enabled?: boolean };
      const pin = p.pin ?? -1;
      const isOutput = (d.outputs ?? []).some((o) => o.pin === pin);
      switch (req.method) {
        case "setGpioStatus":
        case "toggle_gpio": {
          if (!isOutput) return { ok: false, data: { error: `pin ${pin} is not an output`, code: "BAD_PIN" } };
          const next = req.method === "toggle_gpio" ? !d.values[pinKey(d, pin)] : Boolean(p.enabled);
          fake.update(d.id, { [pinKey(d, pin)]: next });
          return { ok: true, data: { [String(pin)]: next } };
        }
        case "getGpioStatus":
          return {
            ok: true,
            data: Object.fromEntries(
              [...(d.outputs ?? []), ...(d.inputs ?? [])].map((o) => [String(o.pin), d.values[pinKey(d, o.pin)]]),
            ),
          };
        default:
          return { ok: false, data: { error: `unknown method ${req.method}`, code: "NO_METHOD" } };
      }
    },
  };
  fake.ctx = {
    bus,
    log,
    config,
    dataDir,
    snapshot: () => structuredClone(fake.state),
    rpc: {
      dispatch: (req) => {
        fake.rpcCalls.push(req);
        return fake.rpcHandler(req);
      },
    },
    scanI2c: async () => {
      fake.scanCalls++;
      fake.state.i2c = scanResult;
      return scanResult;
    },
    pageDevices: {
      add: async () => ({ ok: false, errors: ["the fake dashboard adds no devices"] }),
      update: async () => ({ ok: false, errors: ["the fake dashboard edits no devices"] }),
      remove: async () => ({ ok: false, errors: ["the fake dashboard removes no devices"] }),
      exportYaml: () => "# No devices were added from the dashboard.\n",
    },
    history: (device, range) => {
      fake.historyCalls.push({ device, range });
      return { device, range, stepMs: 10_000, series: structuredClone(fake.history.get(device) ?? {}) };
    },
    startClaim: async (ids) => {
      fake.claimCalls.push(ids);
      const devices = ids ?? fake.state.devices.map((d) => d.id);
      const until = Date.now() + 60_000;
      for (const device of devices) bus.emit("claimWindow", { device, until });
      return { devices, until };
    },
    otaUpload: opts.otaUpload ?? null,
  };
  return fake;
}
