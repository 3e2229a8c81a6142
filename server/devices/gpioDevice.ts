// A GPIO device: a set of outputs (relays, LEDs) and inputs (buttons, contacts) on the Pi header.
// RPC: toggle_gpio {pin} (the Gateway API document's example), and setGpioStatus {pin, enabled} /
// getGpioStatus, which ThingsBoard's stock GPIO control and GPIO panel widgets send; both reply
// with the map of every exposed pin to its state. Only pins the config exposes as outputs can be
// driven. Every output change, whatever its source, is reported as telemetry and client attributes.
import type { BinaryValue, GpioChip, GpioPin } from "../../drivers/gpio/types.ts";
import type { GpioDeviceConfig } from "../config/schema.ts";
import type { DeviceInfo, DeviceSnapshot, Health } from "../events.ts";
import type { ReadingValue, ReadingValues } from "../readings.ts";
import { isInteger, isObject, preview } from "../util/json.ts";
import { RpcError, type ManagedDevice, type RpcHandler } from "./device.ts";
import type { DeviceContext } from "./deviceContext.ts";
import { Reporter } from "./reportStrategy.ts";
import { OfflineSafeTimer } from "./offlineSafeTimer.ts";
import { errorText, UnsafeOutputs } from "./unsafeOutputs.ts";
import { OutputRateLimit } from "./outputRateLimit.ts";

interface Output {
  pin: number;
  label: string;
  safe: BinaryValue;
  io: GpioPin | null;
  value: BinaryValue;
  limit: OutputRateLimit;
}
interface Input {
  pin: number;
  label: string;
  io: GpioPin | null;
  value: BinaryValue;
  unwatch: (() => void) | null;
  cfg: GpioDeviceConfig["inputs"][number];
}

export class GpioDevice implements ManagedDevice {
  readonly info: DeviceInfo;
  readonly rpc: Readonly<Record<string, RpcHandler>>;
  #cfg: GpioDeviceConfig;
  #chip: GpioChip;
  #ctx: DeviceContext;
  #outputs = new Map<number, Output>();
  #inputs = new Map<number, Input>();
  #reporter: Reporter;
  #updatedAt: number | null = null;
  #health: Health = "ok";
  #error: string | undefined;
  readonly #offline: OfflineSafeTimer;
  #started = false;
  /** Outputs whose last safe-state write failed: the device stays degraded until each is written again. */
  readonly #unsafe: UnsafeOutputs;

  constructor(cfg: GpioDeviceConfig, name: string, chip: GpioChip, ctx: DeviceContext) {
    this.#cfg = cfg;
    this.#chip = chip;
    this.#ctx = ctx;
    this.#unsafe = new UnsafeOutputs(ctx);
    this.#reporter = new Reporter(cfg.report);
    this.#offline = new OfflineSafeTimer(cfg.safeStateAfterOfflineSec, (after) => {
      this.#ctx.log.warn(`${this.info.name}: no ThingsBoard connection for ${after} s; outputs to safe state`);
      for (const o of this.#outputs.values()) {
        if (o.value !== o.safe)
          this.setOutput(o.pin, o.safe, "safe").catch((err: unknown) =>
            this.#safeStateFailed(o, err, `after ${after} s offline`),
          );
      }
    });
    for (const o of cfg.outputs)
      this.#outputs.set(o.pin, {
        pin: o.pin,
        label: o.label ?? `gpio${o.pin}`,
        safe: o.safeState,
        io: null,
        value: o.safeState,
        limit: new OutputRateLimit(cfg.outputRateLimit, ctx.now),
      });
    for (const i of cfg.inputs)
      this.#inputs.set(i.pin, {
        pin: i.pin,
        label: i.label ?? `gpio${i.pin}`,
        io: null,
        value: 0,
        unwatch: null,
        cfg: i,
      });
    this.info = {
      id: cfg.id,
      name,
      profile: cfg.profile ?? "GPIO",
      kind: "gpio",
      units: {},
      outputs: [...this.#outputs.values()].map((o) => ({ pin: o.pin, label: o.label })),
      inputs: [...this.#inputs.values()].map((i) => ({ pin: i.pin, label: i.label })),
    };
    this.rpc = {
      toggle_gpio: async (p) => {
        const out = this.#output(p);
        await this.setOutput(out.pin, out.value === 1 ? 0 : 1, "rpc");
        return { success: true, pin: out.pin, enabled: out.value === 1 };
      },
      setGpioStatus: async (p) => {
        const out = this.#output(p);
        const enabled = isObject(p) ? p.enabled : undefined;
        if (typeof enabled !== "boolean" && enabled !== 0 && enabled !== 1)
          throw new RpcError("BAD_PARAMS", "params.enabled must be true or false");
        await this.setOutput(out.pin, enabled === true || enabled === 1 ? 1 : 0, "rpc");
        return this.#statusMap();
      },
      getGpioStatus: async () => this.#statusMap(),
    };
  }

  rename(name: string): void {
    (this.info as { name: string }).name = name;
  }

  /** params {pin: N} naming an exposed output; pins may come as numbers or numeric strings. */
  #output(p: unknown): Output {
    const raw = isObject(p) ? p.pin : undefined;
    const pin = typeof raw === "string" && /^\d{1,2}$/.test(raw) ? Number(raw) : raw;
    if (!isInteger(pin)) throw new RpcError("BAD_PARAMS", "params.pin must be an integer GPIO number");
    const out = this.#outputs.get(pin);
    if (!out) {
      const exposed = [...this.#outputs.keys()].join(", ") || "none";
      throw new RpcError(
        "NOT_ALLOWED",
        this.#inputs.has(pin)
          ? `GPIO ${pin} is an input and cannot be driven`
          : `GPIO ${pin} is not exposed as an output (outputs: ${exposed})`,
      );
    }
    return out;
  }

  #statusMap(): Record<string, boolean> {
    const m: Record<string, boolean> = {};
    for (const o of this.#outputs.values()) m[String(o.pin)] = o.value === 1;
    for (const i of this.#inputs.values()) m[String(i.pin)] = i.value === 1;
    return m;
  }

  async start(): Promise<void> {
    try {
      for (const o of this.#outputs.values()) {
        o.io = await this.#chip.open({
          pin: o.pin,
          direction: "out",
          activeLow: this.#cfg.outputs.find((c) => c.pin === o.pin)?.activeLow ?? false,
          initial: o.safe,
        });
        o.value = o.safe;
      }
      for (const i of this.#inputs.values()) {
        i.io = await this.#chip.open({
          pin: i.pin,
          direction: "in",
          edge: i.cfg.edge,
          activeLow: i.cfg.activeLow,
          debounceMs: i.cfg.debounceMs,
        });
        i.value = await i.io.read();
        i.unwatch = i.io.watch((value, ts) => this.#onEdge(i, value, ts));
      }
      this.#started = true;
    } catch (err) {
      this.#health = "offline";
      this.#error = (err as Error).message;
      this.#ctx.log.error(`GPIO device ${this.info.name}: ${this.#error}`);
      this.#emitSnapshot();
      return;
    }
    // Restore remote settings (last applied shared attributes) on top of the safe state.
    const saved = this.#ctx.memory.load(this.#cfg.id);
    if (Object.keys(saved).length) this.applyShared(saved, []);
    this.#report(this.#currentValues(), Date.now(), true);
  }

  async stop(): Promise<void> {
    this.#offline.cancel();
    for (const i of this.#inputs.values()) i.unwatch?.();
    const safed: ReadingValues = {};
    for (const o of this.#outputs.values()) {
      if (o.io && o.value !== o.safe) {
        try {
          await o.io.write(o.safe);
          o.value = o.safe;
          safed[o.label] = o.safe === 1;
        } catch (err) {
          this.#safeStateFailed(o, err, "at shutdown");
        }
      }
    }
    // Report the shutdown's safe state: the outbox saves it on close, so ThingsBoard does not show
    // a relay as on for the whole time the appliance is down.
    if (Object.keys(safed).length) this.#report(safed, Date.now(), true);
    for (const p of [...this.#outputs.values(), ...this.#inputs.values()]) {
      await p.io?.close().catch(() => {});
      p.io = null;
    }
    this.#started = false;
  }

  async setOutput(pin: number, value: BinaryValue, source: string): Promise<void> {
    const o = this.#outputs.get(pin);
    if (!o?.io) throw new RpcError("DEVICE_ERROR", `GPIO ${pin} is not open`);
    // Every real switch counts against the output's rate limit, except a move to the safe state.
    if (source !== "safe" && value !== o.value && !o.limit.tryTake()) {
      if (o.limit.refused === 1 || o.limit.refused % 100 === 0)
        this.#ctx.log.warn(
          `${this.info.name}: ${o.label} (GPIO ${pin}) switched too often; ${o.limit.refused} command(s) refused so far (${source})`,
        );
      throw new RpcError("RATE_LIMITED", `GPIO ${pin} is switched too often: ${o.limit.describe()}`);
    }
    await o.io.write(value);
    const changed = o.value !== value;
    o.value = value;
    if (this.#unsafe.written(pin) && this.#health === "degraded") {
      this.#health = "ok";
      this.#error = undefined;
    }
    this.#ctx.log.info(`${this.info.name}: ${o.label} (GPIO ${pin}) -> ${value ? "on" : "off"} (${source})`);
    // Output state is always reported after a change, whatever the report strategy says.
    if (changed || source !== "safe") this.#report({ [o.label]: value === 1 }, Date.now(), true);
  }

  /** A relay left on because its safe-state write failed: reported (UnsafeOutputs), device degraded. */
  #safeStateFailed(o: Output, err: unknown, when: string): void {
    const text = `${o.label} (GPIO ${o.pin}) could not be put in its safe state ${when}: ${errorText(err)}`;
    this.#error = this.#unsafe.failed(this.info.name, o.pin, text);
    if (this.#health === "ok") this.#health = "degraded";
    this.#emitSnapshot();
  }

  #onEdge(i: Input, value: BinaryValue, ts: number): void {
    if (i.value === value) return;
    i.value = value;
    this.#report({ [i.label]: value === 1 }, ts, true);
  }

  #currentValues(): ReadingValues {
    const v: ReadingValues = {};
    for (const o of this.#outputs.values()) v[o.label] = o.value === 1;
    for (const i of this.#inputs.values()) v[i.label] = i.value === 1;
    return v;
  }

  #report(values: ReadingValues, ts: number, force: boolean): void {
    const send = force ? values : this.#reporter.select(values, ts);
    this.#updatedAt = ts;
    if (Object.keys(send).length) {
      this.#ctx.bus.emit("telemetry", this.info.name, { ts, values: send });
      this.#ctx.bus.emit("clientAttributes", this.info.name, send);
    }
    this.#emitSnapshot();
  }

  #emitSnapshot(): void {
    this.#ctx.bus.emit("deviceUpdated", this.snapshot());
  }

  snapshot(): DeviceSnapshot {
    const s: DeviceSnapshot = {
      ...this.info,
      values: this.#currentValues() as Record<string, ReadingValue>,
      updatedAt: this.#updatedAt,
      health: this.#health,
    };
    if (this.#error) s.error = this.#error;
    const parked = this.#ctx.parked?.(this.info.name);
    if (parked) s.parked = parked;
    return s;
  }

  /** Shared attribute per output, keyed by label, "gpio<N>" or the pin number: desired state. */
  applyShared(data: Record<string, unknown>, deleted: string[]): void {
    const saved = this.#ctx.memory.load(this.#cfg.id);
    for (const k of deleted) delete saved[k];
    for (const [k, v] of Object.entries(data)) {
      const o = [...this.#outputs.values()].find((x) => x.label === k || `gpio${x.pin}` === k || String(x.pin) === k);
      if (!o) continue;
      const level =
        v === true || v === 1 || v === "on" || v === "true"
          ? 1
          : v === false || v === 0 || v === "off" || v === "false"
            ? 0
            : null;
      if (level === null) {
        this.#ctx.log.warn(
          `${this.info.name}: shared attribute ${preview(k, 40)}=${preview(v)} is not a boolean; ignored`,
        );
        continue;
      }
      saved[k] = v;
      if (this.#started)
        void this.setOutput(o.pin, level, "shared attribute").catch((err: Error) => this.#ctx.log.error(err.message));
    }
    this.#ctx.memory.save(this.#cfg.id, saved);
  }

  sharedKeys(): string[] {
    return [...this.#outputs.values()].map((o) => o.label);
  }

  setOnline(online: boolean): void {
    this.#offline.setOnline(online);
  }
}
