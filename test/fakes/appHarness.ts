// The whole appliance for fault tests: a real Controller (outbox on SQLite, MQTT connection,
// bridge, device runtime on the simulated GPIO header) in-process, or main.ts as a child process,
// pointed at the ThingsBoard emulator on loopback. Plus a sequence-numbered telemetry producer and
// a recorder that tells, per reading, which emulator session delivered it, so a test can count
// produced / delivered / lost / duplicates and prove duplicates come only from redelivery.
import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import { once } from "node:events";
import { copyFileSync, existsSync, rmSync, writeFileSync } from "node:fs";
import { tempDir as sharedTempDir } from "./tempDir.ts";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { stringify } from "yaml";
import { after, before } from "node:test";
import { startEmulator, type Emulator, type EmulatorOptions } from "../../scripts/emulator/index.ts";
import { validateConfig } from "../../server/config/load.ts";
import type { Config } from "../../server/config/schema.ts";
import { Controller } from "../../server/controller.ts";
import { Outbox } from "../../server/outbox/outbox.ts";
import type { EventBus } from "../../server/eventBus.ts";
import { isObject, parseJson } from "../../server/util/json.ts";
import { createLogger, type Logger, type LogRecord } from "../../server/util/logger.ts";
import { until } from "./waitFor.ts";

export const GW_NAME = "Rel Gateway";
export const GW_TOKEN = "rel-gw-token";
export const UNIT = "rel";
/** The GPIO device of every harness config: relay1 on 17, relay2 on 27, a button on 22. */
export const RELAYS = `${UNIT} Relays`;

const ROOT = fileURLToPath(new URL("../../", import.meta.url));

/** The simulated BME280 of the child-process configs: one reading every 100 ms, each reported. */
export const CLIMATE = `${UNIT} Climate`;
export const CLIMATE_INTERVAL_MS = 100;
export const CHILD_DEVICES: unknown[] = [
  {
    id: "relays",
    kind: "gpio",
    name: "{unit} Relays",
    profile: "GPIO Controller",
    outputs: [
      { pin: 17, label: "relay1" },
      { pin: 27, label: "relay2" },
    ],
    inputs: [{ pin: 22, label: "button", debounceMs: 0 }],
    report: { strategy: "every" },
  },
  {
    id: "climate",
    kind: "sensor",
    chip: "bme280",
    name: "{unit} Climate",
    address: 0x76,
    intervalSec: CLIMATE_INTERVAL_MS / 1000,
    report: { strategy: "every" },
  },
];

/** Every telemetry record of `device` left in the outbox file(s) of `dataDir`, read from a copy (the original stays untouched). */
export function outboxRecords(dataDir: string, device: string): Array<{ ts: number; values: Record<string, unknown> }> {
  const copy = tempDir("rel-outbox-copy-");
  try {
    for (const f of ["outbox.sqlite", "outbox.sqlite-wal", "outbox.sqlite-shm"])
      if (existsSync(join(dataDir, f))) copyFileSync(join(dataDir, f), join(copy, f));
    const box = Outbox.open({ dir: copy });
    try {
      return box.take(10_000_000).flatMap((m) => recordsIn(m.payload, device));
    } finally {
      box.close();
    }
  } finally {
    rmSync(copy, { recursive: true, force: true });
  }
}

/** A valid raw config (before defaults) for a unit talking to 127.0.0.1:port, with short intervals. */
export function rawConfig(
  port: number,
  dataDir: string,
  over: {
    thingsboard?: Record<string, unknown>;
    outbox?: Record<string, unknown>;
    devices?: unknown[];
    http?: Record<string, unknown>;
  } = {},
): Record<string, unknown> {
  return {
    version: 1,
    unit: { name: UNIT },
    hardware: "sim",
    thingsboard: {
      host: "127.0.0.1",
      port,
      accessToken: GW_TOKEN,
      keepaliveSec: 5,
      flushIntervalMs: 20,
      reconnectMinMs: 100,
      reconnectMaxMs: 1000,
      attributeRequestTimeoutMs: 2000,
      ...over.thingsboard,
    },
    http: { port: 0, host: "127.0.0.1", ...over.http },
    dataDir,
    log: { level: "warn" },
    outbox: { diskFlushMs: 100, ...over.outbox },
    gateway: { statsPeriodSec: 86_400, remoteLogLevel: "off" },
    devices: over.devices ?? [
      {
        id: "relays",
        kind: "gpio",
        name: "{unit} Relays",
        profile: "GPIO Controller",
        outputs: [
          { pin: 17, label: "relay1" },
          { pin: 27, label: "relay2" },
        ],
        inputs: [{ pin: 22, label: "button", debounceMs: 0 }],
        report: { strategy: "every" },
      },
    ],
  };
}

export function tempDir(prefix = "rel-"): string {
  return sharedTempDir(prefix);
}

export function configFrom(raw: Record<string, unknown>): Config {
  const r = validateConfig(raw);
  if (!r.ok) throw new Error(`harness config is invalid: ${r.errors.join("; ")}`);
  return r.config;
}

/** A logger that keeps warn/error records in memory (printed with TEST_LOG=1). */
export function recordingLogger(): { log: Logger; records: LogRecord[] } {
  const records: LogRecord[] = [];
  const log = createLogger(process.env.TEST_LOG ? "debug" : "error", process.env.TEST_LOG ? undefined : () => {});
  log.root.sinks.set((r) => {
    // Bounded, and with flat copies: a message sliced from a megabyte of fuzz input would keep it alive.
    records.push({ ...r, msg: JSON.parse(JSON.stringify(r.msg.slice(0, 500))) as string, data: undefined as never });
    if (records.length > 2000) records.shift();
  }, "warn");
  return { log, records };
}

export interface AppHarness {
  controller: Controller;
  config: Config;
  dir: string;
  records: LogRecord[];
  readyCount(): number;
  ready(n?: number, timeoutMs?: number): Promise<void>;
  stop(): Promise<void>;
}

/** Start the real composition root in-process (dashboard off unless asked for). */
export async function startApp(raw: Record<string, unknown>, o: { dashboard?: boolean } = {}): Promise<AppHarness> {
  const config = configFrom(raw);
  const { log, records } = recordingLogger();
  const controller = new Controller({
    config,
    log,
    unit: UNIT,
    version: "0.0.0-test",
    dashboard: o.dashboard ?? false,
  });
  let ready = 0;
  await controller.start();
  controller.bridge?.onReady(() => ready++);
  return {
    controller,
    config,
    dir: config.dataDir,
    records,
    readyCount: () => ready,
    ready: (n = 1, timeoutMs = 10_000) =>
      until(() => ready >= n, `bridge ready #${n}`, timeoutMs).then(() => undefined),
    stop: () => controller.stop(),
  };
}

/** Emits `telemetry` bus events {seq} for `devices` round-robin at `ratePerSec`, each with a strictly increasing ts per device. */
export class SeqProducer {
  /** seq -> {device, ts} of every reading emitted. */
  readonly produced = new Map<number, { device: string; ts: number }>();
  #bus: EventBus;
  #devices: string[];
  #rate: number;
  #timer: NodeJS.Timeout | null = null;
  #seq = 0;
  #t0 = 0;
  #lastTs = new Map<string, number>();

  #extra: Record<string, string | number | boolean>;

  /** `extra` values ride along with every reading (e.g. padding to fill a disk budget quickly). */
  constructor(
    bus: EventBus,
    devices: string[],
    ratePerSec: number,
    extra: Record<string, string | number | boolean> = {},
  ) {
    this.#bus = bus;
    this.#devices = devices;
    this.#rate = ratePerSec;
    this.#extra = extra;
  }

  get count(): number {
    return this.#seq;
  }

  start(): void {
    this.#t0 = Date.now() - this.#seq * (1000 / this.#rate);
    // Emit what the rate says is due every 10 ms, so timer jitter does not change the rate.
    this.#timer = setInterval(() => {
      const due = Math.floor(((Date.now() - this.#t0) * this.#rate) / 1000);
      while (this.#seq < due) this.emitOne();
    }, 10);
    // A failed test must not be kept alive by its producer.
    this.#timer.unref();
  }

  stop(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
  }

  emitOne(): void {
    const seq = this.#seq++;
    const device = this.#devices[seq % this.#devices.length] as string;
    const ts = Math.max(Date.now(), (this.#lastTs.get(device) ?? 0) + 1);
    this.#lastTs.set(device, ts);
    this.produced.set(seq, { device, ts });
    this.#bus.emit("telemetry", device, { ts, values: { ...this.#extra, seq } });
  }
}

export interface Arrival {
  device: string;
  seq: number;
  ts: number;
  session: string;
}

/** Records every `seq` reading the emulator stored, with the MQTT session that carried it. */
export class ArrivalRecorder {
  readonly arrivals: Arrival[] = [];
  #session = "";

  attach(emu: Emulator): void {
    // "publish" fires synchronously just before the handler that stores and emits "telemetry".
    emu.events.on("publish", (_topic: string, _payload: Buffer, sessionId: string) => {
      this.#session = String(sessionId);
    });
    emu.events.on("telemetry", (device: string, records: Array<{ ts: number; values: Record<string, unknown> }>) => {
      for (const r of records) {
        const seq = r.values["seq"];
        if (typeof seq === "number") this.arrivals.push({ device, seq, ts: r.ts, session: this.#session });
      }
    });
  }

  distinct(): number {
    return new Set(this.arrivals.map((a) => a.seq)).size;
  }
}

export interface DeliveryReport {
  produced: number;
  delivered: number;
  lost: number;
  duplicates: number;
  lostSeqs: number[];
  /** Duplicates whose copies came over the same session (a bug: at-least-once only redelivers after a reconnect). */
  sameSessionDuplicates: number;
  /** Devices whose readings first arrived out of seq order. */
  outOfOrder: string[];
  /** Readings that arrived with a ts other than the one produced. */
  wrongTs: number;
}

export function analyse(
  produced: ReadonlyMap<number, { device: string; ts: number }>,
  arrivals: readonly Arrival[],
): DeliveryReport {
  const firstSeen = new Map<number, Arrival>();
  const sessionsOf = new Map<number, Set<string>>();
  let duplicates = 0;
  let sameSession = 0;
  let wrongTs = 0;
  const lastSeqOf = new Map<string, number>();
  const outOfOrder = new Set<string>();
  for (const a of arrivals) {
    const p = produced.get(a.seq);
    if (p && (p.ts !== a.ts || p.device !== a.device)) wrongTs++;
    const s = sessionsOf.get(a.seq) ?? new Set<string>();
    if (firstSeen.has(a.seq)) {
      duplicates++;
      if (s.has(a.session)) sameSession++;
    } else {
      firstSeen.set(a.seq, a);
      const last = lastSeqOf.get(a.device);
      if (last !== undefined && a.seq < last) outOfOrder.add(a.device);
      lastSeqOf.set(a.device, a.seq);
    }
    s.add(a.session);
    sessionsOf.set(a.seq, s);
  }
  const lostSeqs = [...produced.keys()].filter((s) => !firstSeen.has(s));
  return {
    produced: produced.size,
    delivered: firstSeen.size,
    lost: lostSeqs.length,
    duplicates,
    lostSeqs: lostSeqs.slice(0, 20),
    sameSessionDuplicates: sameSession,
    outOfOrder: [...outOfOrder],
    wrongTs,
  };
}

/** The one-line summary every fault test prints (quoted in the closing report). */
export function summary(
  name: string,
  r: { produced: number; delivered: number; lost: number; duplicates: number },
  extra = "",
): string {
  const line = `[reliability] ${name}: produced=${r.produced} delivered=${r.delivered} lost=${r.lost} duplicates=${r.duplicates}${extra ? ` ${extra}` : ""}`;
  console.log(line);
  return line;
}

// ---- the appliance as a child process (main.ts), for kill -9 and SIGTERM ----

export interface ChildApp {
  proc: ChildProcessWithoutNullStreams;
  /** Parsed JSON log lines and plain lines, as they arrive. */
  lines: string[];
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  waitLine(re: RegExp, timeoutMs?: number): Promise<string>;
}

export function writeConfigFile(dir: string, raw: Record<string, unknown>, name = "config.yaml"): string {
  const file = join(dir, name);
  writeFileSync(file, stringify(raw));
  return file;
}

/**
 * main.ts through tsx from this checkout; or, with `bundle`, a built entry point
 * (scripts/build-server.mjs) run by plain node, the way systemd runs it on the Pi.
 */
export function spawnApp(
  configFile: string,
  env: Record<string, string> = {},
  bundle?: { entry: string; cwd: string },
): ChildApp {
  const argv = bundle
    ? [bundle.entry, "--config", configFile]
    : ["--import", "tsx", "server/main.ts", "--config", configFile];
  return spawnChild(argv, bundle?.cwd ?? ROOT, env);
}

/**
 * The same composition root as main.ts with stdin commands that drive the simulated header
 * (simHeaderChild.ts): `input(pin, level)` is a door contact changing while the unit runs.
 */
export function spawnSimHeaderApp(configFile: string): ChildApp & { input(pin: number, level: 0 | 1): Promise<void> } {
  const child = spawnChild(["--import", "tsx", "test/fakes/simHeaderChild.ts", configFile], ROOT, {});
  let n = 0;
  const input = async (pin: number, level: 0 | 1): Promise<void> => {
    // Each command is answered once applied; count the answers so a repeated command waits for its own.
    const want = ++n;
    child.proc.stdin.write(`input ${pin} ${level}\n`);
    await until(
      () => child.lines.filter((l) => l.startsWith("SIMCTL done input")).length >= want,
      `input ${pin} ${level} applied`,
      10_000,
    );
  };
  return { ...child, input };
}

function spawnChild(argv: string[], cwd: string, env: Record<string, string>): ChildApp {
  const proc = spawn(process.execPath, argv, {
    cwd,
    env: { ...process.env, NOTIFY_SOCKET: "", LOG_LEVEL: "", ...env },
    stdio: ["pipe", "pipe", "pipe"],
  });
  const lines: string[] = [];
  const waiters = new Set<() => void>();
  let buf = "";
  const onData = (chunk: Buffer) => {
    buf += chunk.toString("utf8");
    let nl: number;
    while ((nl = buf.indexOf("\n")) >= 0) {
      lines.push(buf.slice(0, nl));
      buf = buf.slice(nl + 1);
    }
    for (const w of waiters) w();
  };
  proc.stdout.on("data", onData);
  proc.stderr.on("data", onData);
  const exited = once(proc, "exit").then(([code, signal]) => ({
    code: code as number | null,
    signal: signal as NodeJS.Signals | null,
  }));
  const waitLine = (re: RegExp, timeoutMs = 15_000) =>
    new Promise<string>((resolve, reject) => {
      const check = () => {
        const l = lines.find((x) => re.test(x));
        if (!l) return false;
        waiters.delete(check);
        clearTimeout(timer);
        resolve(l);
        return true;
      };
      const timer = setTimeout(() => {
        waiters.delete(check);
        reject(
          new Error(
            `child: no line matching ${re} within ${timeoutMs} ms; last lines:\n${lines.slice(-15).join("\n")}`,
          ),
        );
      }, timeoutMs);
      if (!check()) waiters.add(check);
      exited.then(() => {
        if (waiters.has(check) && !check()) {
          waiters.delete(check);
          clearTimeout(timer);
          reject(new Error(`child exited before a line matching ${re}; last lines:\n${lines.slice(-15).join("\n")}`));
        }
      }, reject);
    });
  return { proc, lines, exited, waitLine };
}

/** Telemetry records of `payload` (a v1/gateway/telemetry JSON) for `device`. */
export function recordsIn(payload: string, device: string): Array<{ ts: number; values: Record<string, unknown> }> {
  const p = parseJson(payload);
  if (!p.ok || !isObject(p.value)) return [];
  const list = p.value[device];
  return Array.isArray(list)
    ? list.filter(
        (r): r is { ts: number; values: Record<string, unknown> } =>
          isObject(r) && typeof r["ts"] === "number" && isObject(r["values"]),
      )
    : [];
}

/**
 * The usual fixture of a fault test: an emulator with the standard gateway and the whole
 * appliance in-process connected to it, started before the tests and stopped after them.
 * `use` receives both once they are up. Returns the data dir.
 */
export function emulatorAndApp(
  prefix: string,
  emulatorOptions: EmulatorOptions,
  use: (emu: Emulator, app: AppHarness) => void,
): string {
  const dir = tempDir(prefix);
  let emu: Emulator | undefined;
  let app: AppHarness | undefined;
  before(async () => {
    emu = await startEmulator({ gateways: [{ name: GW_NAME, accessToken: GW_TOKEN }], ...emulatorOptions });
    app = await startApp(rawConfig(emu.mqttPort, dir));
    await app.ready();
    use(emu, app);
  });
  after(async () => {
    await app?.stop();
    await emu?.stop();
    rmSync(dir, { recursive: true, force: true });
  });
  return dir;
}
