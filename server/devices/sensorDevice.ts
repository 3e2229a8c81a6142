// An I2C sensor device: samples every intervalSec, reports through the report strategy, and
// survives a failing chip: it is marked degraded (client attribute + dashboard), closed, and
// reopened with exponential backoff, without ever taking the rest of the appliance down.
import type { Sensor } from "../../drivers/sensors/types.ts";
import type { SensorDeviceConfig } from "../config/schema.ts";
import type { DeviceInfo, DeviceSnapshot, Health } from "../events.ts";
import type { ReadingValue } from "../readings.ts";
import type { ManagedDevice, RpcHandler } from "./device.ts";
import { RpcError } from "./device.ts";
import type { DeviceContext } from "./deviceContext.ts";
import { Reporter } from "./reportStrategy.ts";
import { preview } from "../util/json.ts";

const MAX_BACKOFF_MS = 300_000;

export class SensorDevice implements ManagedDevice {
  readonly info: DeviceInfo;
  readonly rpc: Readonly<Record<string, RpcHandler>>;
  #cfg: SensorDeviceConfig;
  #open: () => Promise<Sensor>;
  #ctx: DeviceContext;
  #sensor: Sensor | null = null;
  #reporter: Reporter;
  #intervalMs: number;
  #timer: NodeJS.Timeout | null = null;
  #values: Record<string, ReadingValue> = {};
  #updatedAt: number | null = null;
  #health: Health = "ok";
  #error: string | undefined;
  #failures = 0;
  #reading: Promise<Record<string, number>> | null = null;
  #running = false;
  readonly stats = { reads: 0, failures: 0, reopens: 0 };

  constructor(cfg: SensorDeviceConfig, name: string, open: () => Promise<Sensor>, ctx: DeviceContext) {
    this.#cfg = cfg;
    this.#open = open;
    this.#ctx = ctx;
    this.#reporter = new Reporter(cfg.report);
    this.#intervalMs = cfg.intervalSec * 1000;
    this.info = {
      id: cfg.id,
      name,
      profile: cfg.profile ?? cfg.chip.toUpperCase(),
      kind: "sensor",
      chip: cfg.chip,
      units: {},
    };
    this.rpc = {
      read_now: async () => {
        try {
          return { success: true, values: await this.#readOnce(true) };
        } catch (err) {
          throw new RpcError("DEVICE_ERROR", `read failed: ${(err as Error).message}`);
        }
      },
    };
  }

  rename(name: string): void {
    (this.info as { name: string }).name = name;
  }

  get health(): Health {
    return this.#health;
  }

  async start(): Promise<void> {
    this.#running = true;
    const saved = this.#ctx.memory.load(this.#cfg.id);
    if (Object.keys(saved).length) this.applyShared(saved, []);
    this.#schedule(0);
  }

  async stop(): Promise<void> {
    this.#running = false;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
    await this.#reading?.catch(() => {});
    await this.#sensor?.close().catch(() => {});
    this.#sensor = null;
  }

  #schedule(ms: number): void {
    if (!this.#running) return;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = setTimeout(() => {
      this.#timer = null;
      this.#readOnce(false).then(
        () => this.#schedule(this.#intervalMs),
        () =>
          this.#schedule(
            Math.min(MAX_BACKOFF_MS, Math.max(1000, this.#intervalMs) * 2 ** Math.min(this.#failures - 1, 10)),
          ),
      );
    }, ms);
  }

  /** One measurement; concurrent callers share it. */
  #readOnce(forceReport: boolean): Promise<Record<string, number>> {
    if (this.#reading) return this.#reading;
    this.#reading = this.#measure(forceReport).finally(() => {
      this.#reading = null;
    });
    return this.#reading;
  }

  async #measure(forceReport: boolean): Promise<Record<string, number>> {
    try {
      if (!this.#sensor) {
        this.#sensor = await this.#open();
        this.info.units = { ...this.#sensor.units };
        // A chip that can name itself (SHT4x serial, DS18B20 ROM id) says so once per open, so a
        // swapped part shows in ThingsBoard's client attributes.
        if (this.#sensor.serialNumber)
          this.#ctx.bus.emit("clientAttributes", this.info.name, { serialNumber: this.#sensor.serialNumber });
        if (this.#failures > 0) this.stats.reopens++;
      }
      const r = await this.#sensor.read();
      this.stats.reads++;
      this.#onSuccess(r.values, r.ts, forceReport);
      return r.values;
    } catch (err) {
      this.#onFailure(err as Error);
      throw err;
    }
  }

  #onSuccess(values: Record<string, number>, ts: number, force: boolean): void {
    const recovered = this.#health !== "ok";
    this.#failures = 0;
    this.#health = "ok";
    this.#error = undefined;
    this.#values = { ...values };
    this.#updatedAt = ts;
    if (recovered) {
      this.#ctx.log.info(`${this.info.name}: sensor recovered`);
      this.#ctx.bus.emit("clientAttributes", this.info.name, { health: "ok", lastError: "" });
      this.#reporter.reset();
    }
    const send = force ? values : this.#reporter.select(values, ts);
    if (Object.keys(send).length) this.#ctx.bus.emit("telemetry", this.info.name, { ts, values: send });
    this.#ctx.bus.emit("deviceUpdated", this.snapshot());
  }

  #onFailure(err: Error): void {
    this.#failures++;
    this.stats.failures++;
    const first = this.#health === "ok";
    this.#health = this.#updatedAt === null ? "offline" : "degraded";
    this.#error = err.message;
    const s = this.#sensor;
    this.#sensor = null;
    void s?.close().catch(() => {});
    if (first) {
      this.#ctx.log.warn(`${this.info.name}: sensor read failed (${err.message}); retrying with backoff`);
      this.#ctx.bus.emit("clientAttributes", this.info.name, { health: this.#health, lastError: err.message });
      this.#ctx.bus.emit("eventLog", {
        ts: Date.now(),
        kind: "error",
        device: this.info.name,
        text: `sensor failed: ${err.message}`,
      });
    } else this.#ctx.log.debug(() => `${this.info.name}: still failing (${this.#failures}): ${err.message}`);
    this.#ctx.bus.emit("deviceUpdated", this.snapshot());
  }

  snapshot(): DeviceSnapshot {
    const s: DeviceSnapshot = {
      ...this.info,
      values: { ...this.#values },
      updatedAt: this.#updatedAt,
      health: this.#health,
    };
    if (this.#error) s.error = this.#error;
    const parked = this.#ctx.parked?.(this.info.name);
    if (parked) s.parked = parked;
    return s;
  }

  /** Shared attribute "intervalSec" changes the sampling interval at runtime. */
  applyShared(data: Record<string, unknown>, deleted: string[]): void {
    const saved = this.#ctx.memory.load(this.#cfg.id);
    if (deleted.includes("intervalSec")) {
      delete saved.intervalSec;
      this.#intervalMs = this.#cfg.intervalSec * 1000;
    }
    if ("intervalSec" in data) {
      const v = data.intervalSec;
      if (typeof v === "number" && Number.isFinite(v) && v >= 0.1 && v <= 86_400) {
        saved.intervalSec = v;
        this.#intervalMs = v * 1000;
        this.#ctx.log.info(`${this.info.name}: sampling every ${v} s (shared attribute)`);
        if (this.#running && this.#timer) this.#schedule(this.#intervalMs);
      } else
        this.#ctx.log.warn(
          `${this.info.name}: shared attribute intervalSec=${preview(v)} is not a number 0.1-86400; ignored`,
        );
    }
    this.#ctx.memory.save(this.#cfg.id, saved);
  }

  sharedKeys(): string[] {
    return ["intervalSec"];
  }

  setOnline(): void {
    /* sensors keep sampling offline: the outbox keeps the readings */
  }
}
