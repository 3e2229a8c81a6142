// A PWM device: dimmable or servo outputs on the header's hardware PWM pins (issue 17).
// RPC: setPwm {pin, duty} (duty 0-1, optional frequencyHz) or {pin, pulseUs} for a servo, within
// its configured limits; getPwm answers every output. A shared attribute (the output's label,
// "pwm<N>" or the pin number) sets the value too. Every change, whatever its source, is reported
// as telemetry and client attribute. Outputs start at their safe value and return to it on
// shutdown (and, if configured, after a while without ThingsBoard); a servo without safeUs gets
// no pulses then, so it holds no position. A non-zero safe value keeps running after shutdown.
import type { PwmController, PwmOutput } from "../../drivers/pwm/types.ts";
import type { PwmDeviceConfig } from "../config/schema.ts";
import type { DeviceInfo, DeviceSnapshot, Health } from "../events.ts";
import type { ReadingValue, ReadingValues } from "../readings.ts";
import { isInteger, isObject, preview } from "../util/json.ts";
import { RpcError, type ManagedDevice, type RpcHandler } from "./device.ts";
import type { DeviceContext } from "./deviceContext.ts";
import { OfflineSafeTimer } from "./offlineSafeTimer.ts";
import { errorText, UnsafeOutputs } from "./unsafeOutputs.ts";

type OutputCfg = PwmDeviceConfig["outputs"][number];

interface Output {
  cfg: OutputCfg;
  pin: number;
  label: string;
  servo: boolean;
  frequencyHz: number;
  /** Duty 0-1, or pulse µs for a servo; null: no pulses (a servo's safe state without safeUs). */
  value: number | null;
  safe: number | null;
  io: PwmOutput | null;
}

export class PwmDevice implements ManagedDevice {
  readonly info: DeviceInfo;
  readonly rpc: Readonly<Record<string, RpcHandler>>;
  #cfg: PwmDeviceConfig;
  #open: () => Promise<PwmController>;
  #ctx: DeviceContext;
  #outputs = new Map<number, Output>();
  #updatedAt: number | null = null;
  #health: Health = "ok";
  #error: string | undefined;
  readonly #offline: OfflineSafeTimer;
  readonly #unsafe: UnsafeOutputs;
  #started = false;

  constructor(cfg: PwmDeviceConfig, name: string, open: () => Promise<PwmController>, ctx: DeviceContext) {
    this.#cfg = cfg;
    this.#open = open;
    this.#ctx = ctx;
    this.#unsafe = new UnsafeOutputs(ctx);
    this.#offline = new OfflineSafeTimer(cfg.safeStateAfterOfflineSec, (after) => {
      this.#ctx.log.warn(
        `${this.info.name}: no ThingsBoard connection for ${after} s; PWM outputs to their safe value`,
      );
      for (const o of this.#outputs.values()) {
        if (o.value !== o.safe)
          this.set(o.pin, o.safe, "safe").catch((err: unknown) => this.#safeFailed(o, err, `after ${after} s offline`));
      }
    });
    for (const o of cfg.outputs) {
      const servo = o.servo !== undefined;
      const safe = servo ? (o.servo?.safeUs ?? null) : o.safeDuty;
      this.#outputs.set(o.pin, {
        cfg: o,
        pin: o.pin,
        label: o.label ?? `pwm${o.pin}`,
        servo,
        frequencyHz: o.frequencyHz ?? (servo ? 50 : 1000),
        value: safe,
        safe,
        io: null,
      });
    }
    this.info = {
      id: cfg.id,
      name,
      profile: cfg.profile ?? "PWM",
      kind: "pwm",
      units: Object.fromEntries([...this.#outputs.values()].map((o) => [o.label, o.servo ? "µs" : ""])),
      pwm: [...this.#outputs.values()].map((o) =>
        o.servo
          ? {
              pin: o.pin,
              label: o.label,
              mode: "servo" as const,
              min: o.cfg.servo!.minUs,
              max: o.cfg.servo!.maxUs,
              step: 10,
              unit: "µs",
            }
          : { pin: o.pin, label: o.label, mode: "duty" as const, min: 0, max: 1, step: 0.01, unit: "" },
      ),
    };
    this.rpc = {
      setPwm: async (p) => {
        const out = this.#output(p);
        const params = p as Record<string, unknown>;
        let frequencyHz: number | undefined;
        if (params.frequencyHz !== undefined) {
          const f = params.frequencyHz;
          if (out.servo)
            throw new RpcError("BAD_PARAMS", `${out.label} is a servo: its frequency is fixed by the config`);
          if (typeof f !== "number" || !Number.isFinite(f) || f < 0.1 || f > 1_000_000)
            throw new RpcError("BAD_PARAMS", "params.frequencyHz must be a number 0.1-1000000");
          frequencyHz = f;
        }
        const value = out.servo
          ? this.#pulse(out, params.pulseUs)
          : this.#duty(params.duty, frequencyHz !== undefined ? out.value : undefined);
        await this.set(out.pin, value, "rpc", frequencyHz);
        return { success: true, ...this.#describe(out) };
      },
      getPwm: async () =>
        Object.fromEntries([...this.#outputs.values()].map((o) => [String(o.pin), this.#describe(o)])),
    };
  }

  rename(name: string): void {
    (this.info as { name: string }).name = name;
  }

  #describe(o: Output): Record<string, ReadingValue> {
    const d: Record<string, ReadingValue> = { pin: o.pin, label: o.label, frequencyHz: o.frequencyHz };
    if (o.servo) d.pulseUs = o.value ?? 0;
    else d.duty = o.value ?? 0;
    return d;
  }

  #output(p: unknown): Output {
    const raw = isObject(p) ? p.pin : undefined;
    const pin = typeof raw === "string" && /^\d{1,2}$/.test(raw) ? Number(raw) : raw;
    if (!isInteger(pin)) throw new RpcError("BAD_PARAMS", "params.pin must be an integer GPIO number");
    const out = this.#outputs.get(pin);
    if (!out)
      throw new RpcError(
        "NOT_ALLOWED",
        `GPIO ${pin} is not a PWM output of this device (outputs: ${[...this.#outputs.keys()].join(", ")})`,
      );
    return out;
  }

  #duty(v: unknown, keep: number | null | undefined): number {
    if (v === undefined && keep !== undefined && keep !== null) return keep; // a frequency change alone
    if (typeof v !== "number" || !Number.isFinite(v) || v < 0 || v > 1)
      throw new RpcError("BAD_PARAMS", "params.duty must be a number 0-1");
    return v;
  }

  #pulse(o: Output, v: unknown): number {
    const { minUs, maxUs } = o.cfg.servo!;
    if (typeof v !== "number" || !Number.isFinite(v))
      throw new RpcError("BAD_PARAMS", `params.pulseUs must be a number ${minUs}-${maxUs}`);
    if (v < minUs || v > maxUs)
      throw new RpcError("BAD_PARAMS", `params.pulseUs ${v} is outside ${o.label}'s limits ${minUs}-${maxUs} µs`);
    return v;
  }

  async start(): Promise<void> {
    try {
      const controller = await this.#open();
      for (const o of this.#outputs.values()) {
        o.io = await controller.open(o.pin);
        await this.#apply(o, o.safe);
      }
      this.#started = true;
    } catch (err) {
      this.#health = "offline";
      this.#error = (err as Error).message;
      this.#ctx.log.error(`PWM device ${this.info.name}: ${this.#error}`);
      this.#emitSnapshot();
      return;
    }
    const saved = this.#ctx.memory.load(this.#cfg.id);
    if (Object.keys(saved).length) this.applyShared(saved, []);
    this.#report(this.#values(), Date.now());
  }

  async stop(): Promise<void> {
    this.#offline.cancel();
    const safed: ReadingValues = {};
    for (const o of this.#outputs.values()) {
      if (!o.io) continue;
      try {
        if (o.value !== o.safe) {
          await this.#apply(o, o.safe);
          safed[o.label] = o.safe ?? 0;
        }
        // A non-zero safe value (a fan that must keep turning, a servo held at its safe pulse) keeps
        // running while the appliance is down: the kernel drives it without us. Otherwise the
        // channel is stopped and given back.
        if (o.safe === null || o.safe === 0) await o.io.close();
      } catch (err) {
        this.#safeFailed(o, err, "at shutdown");
      }
      o.io = null;
    }
    if (Object.keys(safed).length) this.#report(safed, Date.now());
    this.#started = false;
  }

  /** Sets one output (duty 0-1 or µs), reporting the change whatever its source. */
  async set(pin: number, value: number | null, source: string, frequencyHz?: number): Promise<void> {
    const o = this.#outputs.get(pin);
    if (!o?.io) throw new RpcError("DEVICE_ERROR", `PWM GPIO ${pin} is not open`);
    const frequencyChanged = frequencyHz !== undefined && frequencyHz !== o.frequencyHz;
    if (frequencyHz !== undefined) o.frequencyHz = frequencyHz;
    await this.#apply(o, value);
    if (this.#unsafe.written(pin) && this.#health === "degraded") {
      this.#health = "ok";
      this.#error = undefined;
    }
    this.#ctx.log.info(
      `${this.info.name}: ${o.label} (GPIO ${pin}) -> ${value === null ? "off" : o.servo ? `${value} µs` : `duty ${value}`} at ${o.frequencyHz} Hz (${source})`,
    );
    this.#report({ [o.label]: value ?? 0 }, Date.now());
    if (frequencyChanged)
      this.#ctx.bus.emit("clientAttributes", this.info.name, { [`${o.label}FrequencyHz`]: o.frequencyHz });
  }

  async #apply(o: Output, value: number | null): Promise<void> {
    const io = o.io!;
    if (value === null) {
      await io.enable(false);
    } else {
      const periodNs = 1e9 / o.frequencyHz;
      await io.set(periodNs, o.servo ? value * 1000 : value * periodNs);
      await io.enable(true);
    }
    o.value = value;
  }

  /** Reported values: duty 0-1, or pulse µs with 0 for "no pulses". */
  #values(): ReadingValues {
    return Object.fromEntries([...this.#outputs.values()].map((o) => [o.label, o.value ?? 0]));
  }

  #report(values: ReadingValues, ts: number): void {
    this.#updatedAt = ts;
    this.#ctx.bus.emit("telemetry", this.info.name, { ts, values });
    this.#ctx.bus.emit("clientAttributes", this.info.name, values);
    this.#emitSnapshot();
  }

  #emitSnapshot(): void {
    this.#ctx.bus.emit("deviceUpdated", this.snapshot());
  }

  snapshot(): DeviceSnapshot {
    const s: DeviceSnapshot = {
      ...this.info,
      values: this.#values() as Record<string, ReadingValue>,
      updatedAt: this.#updatedAt,
      health: this.#health,
    };
    if (this.#error) s.error = this.#error;
    return s;
  }

  /** Shared attribute per output (label, "pwm<N>" or the pin number): duty 0-1, or µs for a servo. */
  applyShared(data: Record<string, unknown>, deleted: string[]): void {
    const saved = this.#ctx.memory.load(this.#cfg.id);
    for (const k of deleted) delete saved[k];
    for (const [k, v] of Object.entries(data)) {
      const o = [...this.#outputs.values()].find((x) => x.label === k || `pwm${x.pin}` === k || String(x.pin) === k);
      if (!o) continue;
      let value: number;
      try {
        value = o.servo ? this.#pulse(o, v) : this.#duty(v, undefined);
      } catch (err) {
        this.#ctx.log.warn(
          `${this.info.name}: shared attribute ${preview(k, 40)}=${preview(v)}: ${(err as Error).message}; ignored`,
        );
        continue;
      }
      saved[k] = value;
      if (this.#started)
        this.set(o.pin, value, "shared attribute").catch((err: Error) => this.#ctx.log.error(err.message));
    }
    this.#ctx.memory.save(this.#cfg.id, saved);
  }

  sharedKeys(): string[] {
    return [...this.#outputs.values()].map((o) => o.label);
  }

  setOnline(online: boolean): void {
    this.#offline.setOnline(online);
  }

  /** A motor or heater left running because its safe value failed: reported (UnsafeOutputs), degraded. */
  #safeFailed(o: Output, err: unknown, when: string): void {
    const text = `${o.label} (GPIO ${o.pin}) could not be set to its safe value ${when}: ${errorText(err)}`;
    this.#error = this.#unsafe.failed(this.info.name, o.pin, text);
    if (this.#health === "ok") this.#health = "degraded";
    this.#emitSnapshot();
  }
}
