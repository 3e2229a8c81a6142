// The composition root: builds every part, starts them in order and stops them in reverse.
// Constructors only assign; hardware, sockets and timers start in start().
import { existsSync, mkdirSync } from "node:fs";
import type { Config, DeviceConfig } from "./config/schema.ts";
import { EventBus } from "./eventBus.ts";
import { headerView } from "./config/gpioHeader.ts";
import type {
  AppSnapshot,
  DeviceSnapshot,
  ConnectionStatus,
  EventLogEntry,
  I2cScanEntry,
  OutboxStatus,
} from "./events.ts";
import { Hardware } from "./hardware.ts";
import { DemoWorld } from "./demo.ts";
import { DeviceRuntime } from "./devices/runtime.ts";
import type { DeviceMemory, DeviceNameRecord, DeviceNameStore } from "./devices/deviceContext.ts";
import { DeviceRpcDispatcher } from "./rpc/dispatcher.ts";
import type { TbConnection } from "./gateway/connection.ts";
import type { GatewayBridge } from "./gateway/bridge.ts";
import { Outbox } from "./outbox/outbox.ts";
import { MIN_OUTBOX_BUDGET_MS, outboxFlushBudget } from "./outbox/flushBudget.ts";
import { DeadLetterStore } from "./outbox/deadLetters.ts";
import { StateStore } from "./state/stateStore.ts";
import { DashboardServer } from "./http/dashboardServer.ts";
import { GatewayService, type GatewayServiceHost } from "./features/gatewayService.ts";
import { createOtaUpdater, withoutOtaKeys } from "./features/ota/wiring.ts";
import type { OtaStatus, OtaUpdater } from "./features/ota/updater.ts";
import { AppInfoReader } from "./features/appInfo.ts";
import { ClaimButton } from "./features/claimButton.ts";
import type { Feature } from "./features/feature.ts";
import { ThingsBoardLink } from "./thingsboardLink.ts";
import { HistoryRecorder } from "./history/historyRecorder.ts";
import { PageDevices } from "./features/pageDevices.ts";
import type { Logger } from "./util/logger.ts";
import { isObject } from "./util/json.ts";
import type { DeviceHistory } from "./history/historyRecorder.ts";
import type { HistoryRange } from "./history/tiers.ts";
import { detach } from "./util/detach.ts";
import type { EmbeddedThingsBoard, StartEmbeddedThingsBoard } from "./embeddedThingsBoard.ts";

export interface ControllerOptions<E extends EmbeddedThingsBoard = EmbeddedThingsBoard> {
  config: Config;
  log: Logger;
  /** Run the demo world: simulated inputs and sensors that move (npm start with no config). */
  demo?: boolean;
  /** Start this ThingsBoard stand-in and connect to it (the demo's; the entry point provides it). */
  embeddedThingsBoard?: StartEmbeddedThingsBoard<E>;
  /** Unit identity used in device names. */
  unit: string;
  version: string;
  /** Demo: where the embedded emulator listens (0 = any free port). */
  emulatorPorts?: { mqtt: number; http: number };
  /** Restart the process (gateway_restart); main.ts exits non-zero so systemd restarts it. */
  restart?: () => void;
  /** Start the dashboard (default true). */
  dashboard?: boolean;
}

interface DeviceState {
  devices: Record<string, Record<string, unknown>>;
  /** ThingsBoard's renames and deletions, by device id (issue 10). */
  names: Record<string, DeviceNameRecord>;
}

const EVENT_LOG_SIZE = 200;

export class Controller<E extends EmbeddedThingsBoard = EmbeddedThingsBoard> {
  readonly bus: EventBus;
  readonly log: Logger;
  #config: Config;
  /** The main config's devices and those added from the dashboard (server/features/pageDevices.ts). */
  #devices: DeviceConfig[];
  #pageDevices: PageDevices | null = null;
  readonly runtime: DeviceRuntime;
  readonly rpc: DeviceRpcDispatcher;
  readonly hardware: Hardware;
  #o: ControllerOptions<E>;
  #emulator: E | null = null;
  #state: StateStore<DeviceState> | null = null;
  #outbox: Outbox | null = null;
  #parked: Outbox | null = null;
  #tb: ThingsBoardLink | null = null;
  #deadLetters: DeadLetterStore | null = null;
  #dashboard: DashboardServer | null = null;
  #service: GatewayService | null = null;
  #ota: OtaUpdater | null = null;
  #history: HistoryRecorder | null = null;
  #info: AppInfoReader;
  #events: EventLogEntry[] = [];
  #connStatus: ConnectionStatus;
  #outboxStatus: OutboxStatus | null = null;
  #scan: I2cScanEntry[] | null = null;
  /** How to undo each part that has started, in start order; stop() runs them in reverse. */
  #undo: Array<{ what: string; run: () => unknown }> = [];
  #stopping: Promise<void> | null = null;
  /** The Pi's UART (serial console) is on, so GPIO 14/15 are taken (the header view marks a clash). */
  #uartEnabled = false;

  constructor(o: ControllerOptions<E>) {
    this.#o = o;
    this.#config = o.config;
    this.#devices = o.config.devices;
    this.log = o.log;
    this.bus = new EventBus(o.log.child("bus"));
    this.hardware = Hardware.create(o.config, o.log.child("hw"));
    const memory: DeviceMemory = {
      load: (id) => {
        const saved: unknown = this.#state?.data.devices[id];
        return isObject(saved) ? { ...saved } : {};
      },
      save: (id, data) =>
        this.#state?.update((d) => {
          d.devices[id] = data;
        }),
    };
    const names: DeviceNameStore = {
      load: () => {
        const saved: unknown = this.#state?.data.names;
        return isObject(saved) ? (saved as Record<string, DeviceNameRecord>) : {};
      },
      save: (id, rec) =>
        this.#state?.update((d) => {
          if (!isObject(d.names)) d.names = {};
          if (rec) d.names[id] = rec;
          else delete d.names[id];
        }),
    };
    this.runtime = new DeviceRuntime({ bus: this.bus, log: o.log.child("device"), memory, names });
    this.rpc = new DeviceRpcDispatcher(this.runtime, this.bus, o.log.child("rpc"));
    this.#uartEnabled = this.hardware.kind === "pi" && existsSync("/dev/serial0");
    this.#info = new AppInfoReader(o.version, o.unit, this.hardware.kind, o.config.dataDir, o.log.child("info"));
    this.#connStatus = {
      state: "stopped",
      since: Date.now(),
      server: `${o.config.thingsboard.host}:${o.config.thingsboard.port}`,
      mqttVersion: o.config.thingsboard.mqttVersion,
      reconnects: 0,
    };
  }

  /** The configuration in force: the main file's, with the devices added from the dashboard. */
  get config(): Config {
    return this.#devices === this.#config.devices ? this.#config : { ...this.#config, devices: this.#devices };
  }

  /** Devices added from the dashboard (null before start). */
  get pageDevices(): PageDevices | null {
    return this.#pageDevices;
  }

  get emulator(): E | null {
    return this.#emulator;
  }
  get bridge(): GatewayBridge | null {
    return this.#tb?.bridge ?? null;
  }
  get deadLetters(): DeadLetterStore | null {
    return this.#deadLetters;
  }

  get outbox(): Outbox | null {
    return this.#outbox;
  }
  get connection(): TbConnection | null {
    return this.#tb?.connection ?? null;
  }
  /** The over-the-air updater's state (null when gateway.ota.enabled is false). */
  get ota(): OtaStatus | null {
    return this.#ota?.status() ?? null;
  }
  get httpPort(): number {
    return this.#dashboard?.port ?? 0;
  }
  /** The dashboard's one-time setup code while no password is set, else null. */
  get dashboardSetupCode(): string | null {
    return this.#dashboard?.setupCode ?? null;
  }

  async start(): Promise<void> {
    const { config, log } = this.#o;
    mkdirSync(config.dataDir, { recursive: true });
    this.bus.on(this, "eventLog", (e) => {
      this.#events.unshift(e);
      if (this.#events.length > EVENT_LOG_SIZE) this.#events.length = EVENT_LOG_SIZE;
    });
    this.bus.on(this, "connection", (s) => {
      this.#connStatus = s;
    });
    this.bus.on(this, "outbox", (s) => {
      this.#outboxStatus = s;
    });

    // 1. Durable state first: nothing may be produced before it can be kept.
    this.#state = await StateStore.open<DeviceState>(
      `${config.dataDir}/state.json`,
      { devices: {}, names: {} },
      { log: log.child("state") },
    );
    // Valid JSON of the wrong shape (a hand edit, a torn older format) must not break every device's load/save.
    if (!isObject(this.#state.data.devices)) {
      log.error(
        `state file ${config.dataDir}/state.json has no usable "devices" map; saved device settings start empty`,
      );
      this.#state.update((d) => {
        d.devices = {};
      });
    }
    const state = this.#state;
    this.#onStop("state", () => state.close());
    const flushBudget = outboxFlushBudget(config);
    if (!flushBudget.promiseKept)
      log.warn(
        `outbox.diskFlushMs ${config.outbox.diskFlushMs} leaves the outbox less than ${MIN_OUTBOX_BUDGET_MS} ms after thingsboard.flushIntervalMs ${config.thingsboard.flushIntervalMs}: a power cut can take up to ${config.thingsboard.flushIntervalMs + flushBudget.budgetMs} ms of readings`,
      );
    this.#outbox = Outbox.open({
      dir: config.dataDir,
      diskFlushMs: flushBudget.budgetMs,
      maxDiskBytes: config.outbox.maxDiskMb * 1024 * 1024,
      memoryMaxMessages: config.outbox.memoryMaxMessages,
      log: log.child("outbox"),
    });
    this.#outboxStatus = this.#outbox.status();
    this.#outbox.onStatus((s) => this.bus.emit("outbox", { ...s, deadLetters: this.#deadLetters?.count ?? 0 }));
    const outbox = this.#outbox;
    this.#onStop("outbox", () => outbox.close());
    // Messages of devices ThingsBoard refuses (tenant device limit) wait in their own queue (issue 10).
    const parkedDir = `${config.dataDir}/parked`;
    mkdirSync(parkedDir, { recursive: true });
    const parked = Outbox.open({
      dir: parkedDir,
      diskFlushMs: config.outbox.diskFlushMs,
      maxDiskBytes: config.outbox.maxDiskMb * 1024 * 1024,
      memoryMaxMessages: config.outbox.memoryMaxMessages,
      log: log.child("parked"),
    });
    this.#parked = parked;
    this.#onStop("parked outbox", () => parked.close());
    // Chart history (issue 14): listens before any device produces, so the first reading is kept too.
    this.#history = new HistoryRecorder({
      bus: this.bus,
      log: log.child("history"),
      file: `${config.dataDir}/history.db`,
    });
    await this.#startFeature("history", this.#history);

    // 2. The embedded ThingsBoard (demo only).
    let tb = config.thingsboard;
    const startThingsBoard = this.#o.embeddedThingsBoard;
    if (startThingsBoard) {
      const ports = this.#o.emulatorPorts ?? { mqtt: 0, http: 0 };
      this.#emulator = await startThingsBoard({
        gateway: { name: `${this.#o.unit} Gateway`, accessToken: tb.accessToken ?? "demo-gateway-token" },
        mqttPort: ports.mqtt,
        httpPort: ports.http,
        log: log.child("emulator"),
      });
      const emulator = this.#emulator;
      this.#onStop("emulator", () => emulator.stop());
      tb = { ...tb, host: "127.0.0.1", port: this.#emulator.mqttPort };
      this.#connStatus.server = `127.0.0.1:${this.#emulator.mqttPort}`;
    }

    // 3. Devices on their hardware: the main config's, then those added from the dashboard.
    this.#pageDevices = await PageDevices.open({
      file: `${config.dataDir}/devices.local.json`,
      config,
      runtime: this.runtime,
      bus: this.bus,
      log: log.child("page-devices"),
      disconnect: (name) => this.#tb?.bridge.disconnectDevice(name) ?? Promise.resolve(),
      forgetHistory: (id) => this.#history?.forget(id),
      onChanged: (devices) => {
        this.#devices = devices;
        this.hardware.setConfigured(devices);
      },
    });
    const pageDevices = this.#pageDevices;
    this.#onStop("page devices", () => pageDevices.close());
    this.#devices = this.#pageDevices.merged();
    this.hardware.setConfigured(this.#devices);
    // Opened as the devices ask for it; closing is safe either way.
    this.#onStop("hardware", () => this.hardware.close());
    await this.runtime.build(this.#devices, this.#o.unit, {
      gpio: () => this.hardware.gpio(),
      openSensor: (c) => this.hardware.openSensor(c),
      pwm: () => this.hardware.pwm(),
    });
    if (this.hardware.sim) {
      // Simulated inputs start released, as a real pulled-up (active-low) or pulled-down button would.
      for (const d of this.#devices)
        if (d.kind === "gpio") for (const i of d.inputs) this.hardware.sim.gpio.setInput(i.pin, i.activeLow ? 1 : 0);
      const cb = config.gateway.claimButton;
      if (cb) this.hardware.sim.gpio.setInput(cb.pin, cb.activeLow ? 1 : 0);
    }

    // 4. The ThingsBoard side: connection, bridge, and self-provisioning when the unit has no credentials.
    const link = ThingsBoardLink.open({
      bus: this.bus,
      log,
      tb,
      dataDir: config.dataDir,
      unit: this.#o.unit,
      runtime: this.runtime,
      rpc: this.rpc,
      outbox: this.#outbox,
      ...(this.#parked ? { parkedStore: this.#parked } : {}),
      gatewayRpc: (m, p) => this.#service?.handle(m, p) ?? Promise.resolve({ ok: false, data: { error: "not ready" } }),
      onGatewayAttributes: (data, deleted) => {
        this.#ota?.onSharedAttributes(data, deleted);
        const rest = withoutOtaKeys(data, deleted);
        if (Object.keys(rest.data).length || rest.deleted.length)
          this.#service?.applySharedAttributes(rest.data, rest.deleted);
      },
      onProvisionFailure: (lastError, nextRetryAt) => {
        this.#connStatus = { ...this.#connStatus, state: "backoff", lastError, nextRetryAt };
        this.bus.emit("connection", this.#connStatus);
      },
    });
    this.#tb = link;
    // Issue 12: messages the server keeps closing the connection on leave the queue for these.
    const deadLetters = DeadLetterStore.open(config.dataDir, log.child("deadLetters"));
    this.#deadLetters = deadLetters;
    this.#onStop("dead letters", () => deadLetters.close());
    link.bridge.sender.onDeadLetter = (m, attempts, reason) => {
      deadLetters.add({
        ts: m.ts,
        deadAt: Date.now(),
        topic: m.topic,
        payload: m.payload,
        points: m.points,
        attempts,
        reason,
      });
      this.bus.emit("eventLog", {
        ts: Date.now(),
        kind: "error",
        text: `a ${m.payload.length}-byte message on ${m.topic} was set aside as a dead letter after ${attempts} attempts (${reason}); gateway RPC gateway_dead_letters lists them`,
      });
      this.bus.emit("clientAttributes", "", { deadLetters: deadLetters.count });
      this.bus.emit("outbox", { ...outbox.status(), deadLetters: deadLetters.count });
    };
    const host: GatewayServiceHost = {
      config,
      bus: this.bus,
      runtime: this.runtime,
      hardwareKind: this.hardware.kind,
      appInfo: () => this.#info.read(),
      scanI2c: () => this.scanI2c(),
      scanKernelSensors: () => this.hardware.scanKernelSensors(),
      outboxStatus: () => this.#outbox?.status() ?? null,
      connectionStatus: () => link.connection.status(),
      deadLetters: {
        get count() {
          return deadLetters.count;
        },
        list: (limit) => deadLetters.list(limit),
        requeue: () => {
          const all = deadLetters.takeAll();
          for (const d of all) outbox.enqueue(d.topic, d.payload, d.points);
          link.bridge.sender.kick();
          return all.length;
        },
      },
    };
    this.#service = new GatewayService({
      host,
      bridge: link.bridge,
      log: log.child("service"),
      ...(this.#o.restart ? { restart: this.#o.restart } : {}),
    });
    link.bridge.onReady(() => detach("requesting shared attributes", this.#requestSharedAttributes(), log));
    if (config.gateway.ota.enabled) {
      const restart =
        this.#o.restart ?? (() => log.error("an update needs a restart, but this process has no restart hook"));
      const ota = createOtaUpdater({
        link,
        bus: this.bus,
        log: log.child("ota"),
        dataDir: config.dataDir,
        ota: config.gateway.ota,
        app: { name: "rpi-tb-gateway", version: this.#o.version },
        restart,
        announce: true,
      });
      this.#ota = ota;
      await this.#startFeature("ota updater", ota);
    }
    // Undone in reverse: the bridge moves what it buffers into the outbox, then MQTT closes.
    this.#onStop("mqtt", () => link.connection.stop());
    this.#onStop("bridge", () => link.bridge.stop());
    link.bridge.start();

    // 5. Devices start producing (readings queue in the outbox until ThingsBoard is there).
    // Undone: outputs to their safe state, reported before the bridge and the outbox close.
    this.#onStop("devices", () => this.runtime.stop());
    await this.runtime.start();
    if (this.hardware.sim && this.#o.demo) {
      await this.#startFeature("demo world", new DemoWorld(this.hardware));
    }

    // 6. Dashboard and gateway features, then connect.
    if (this.#o.dashboard !== false) {
      this.#dashboard = new DashboardServer({
        bus: this.bus,
        log: log.child("http"),
        config,
        dataDir: config.dataDir,
        snapshot: () => this.snapshot(),
        rpc: this.rpc,
        scanI2c: () => this.scanI2c(),
        history: (device, range) => this.history(device, range),
        pageDevices: {
          add: (d) => this.#pageDevices!.add(d),
          update: (id, d) => this.#pageDevices!.update(id, d),
          remove: (id) => this.#pageDevices!.remove(id),
          exportYaml: () => this.#pageDevices!.exportYaml(),
        },
        startClaim: (ids) => this.#service!.startClaim(ids),
        otaUpload: this.#ota,
      });
      const dashboard = this.#dashboard;
      // A start that fails half way (port taken) may already hold sockets; stop() releases them.
      this.#onStop("dashboard", () => dashboard.stop());
      await dashboard.start();
    }
    await this.#startFeature("gateway service", this.#service);
    const cb = config.gateway.claimButton;
    if (cb) {
      const button = new ClaimButton({
        ...cb,
        gpio: () => this.hardware.gpio(),
        startClaim: () => this.#service!.startClaim(),
        log: log.child("claim"),
      });
      // A claim button that cannot open its pin is not worth refusing to start over.
      await this.#startFeature("claim button", button).catch((err: Error) =>
        log.error(`claim button on GPIO ${cb.pin}: ${err.message}`),
      );
    }
    this.#onStop("provisioning", () => link.stopProvisioning());
    link.connect();
  }

  /**
   * Stops every part that started, in reverse order, whatever failed: after a start that threw half
   * way (the dashboard's port taken) too, so the outbox is flushed and closed, outputs go to their
   * safe state and the emulator frees its ports. A step that fails is logged and the rest still run.
   */
  stop(): Promise<void> {
    this.#stopping ??= this.#runUndo();
    return this.#stopping;
  }

  async #runUndo(): Promise<void> {
    for (let step = this.#undo.pop(); step; step = this.#undo.pop()) {
      try {
        await step.run();
      } catch (err) {
        this.log.error(`shutdown: ${step.what} failed: ${err instanceof Error ? err.message : String(err)}`);
      }
    }
    this.bus.removeListeners(this);
  }

  #onStop(what: string, run: () => unknown): void {
    this.#undo.push({ what, run });
  }

  /** Starts a feature; its stop() is registered first, so a start that fails half way is undone too. */
  async #startFeature(what: string, feature: Feature): Promise<void> {
    this.#onStop(what, () => feature.stop());
    await feature.start();
  }

  async scanI2c(): Promise<I2cScanEntry[]> {
    this.#scan = await this.hardware.scan();
    return this.#scan;
  }

  /** A device's chart history (by local id); empty when the device or the history is unknown. */
  history(device: string, range: HistoryRange): DeviceHistory {
    return this.#history?.query(device, range) ?? { device, range, stepMs: 0, series: {} };
  }

  snapshot(): AppSnapshot {
    return {
      app: this.#info.read(),
      connection: this.#connStatus,
      outbox: this.#outboxStatus,
      devices: this.#markPageDevices(this.runtime.snapshots()),
      events: this.#events.slice(0, EVENT_LOG_SIZE),
      i2c: this.#scan,
      claimable: this.config.devices.filter((d) => d.claim).map((d) => d.id),
      update: this.ota,
      header: headerView(this.config, this.#uartEnabled),
    };
  }

  #markPageDevices(devices: DeviceSnapshot[]): DeviceSnapshot[] {
    const pd = this.#pageDevices;
    if (!pd || pd.ids().length === 0) return devices;
    return devices.map((d) => {
      const entry = pd.entry(d.id);
      return entry ? { ...d, source: "page", pageConfig: entry } : d;
    });
  }

  /** After each (re)connect: fetch the shared attributes each device is configured by. */
  async #requestSharedAttributes(): Promise<void> {
    for (const d of this.runtime.list()) {
      const keys = d.sharedKeys();
      const bridge = this.#tb?.bridge;
      // Deleted in ThingsBoard meanwhile: a request would re-create it there.
      if (!keys.length || !bridge || this.runtime.isDeleted(d.info.name)) continue;
      try {
        const requestedAt = Date.now();
        const values = await bridge.requestAttributes(d.info.name, keys, false);
        this.runtime.applyRequested(d, values, requestedAt);
      } catch (err) {
        this.log.debug(() => `shared attributes of ${d.info.name}: ${(err as Error).message}`);
      }
    }
  }
}
