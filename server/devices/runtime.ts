// The device runtime: turns the config's device list into ManagedDevices on the chosen
// hardware, routes shared attributes to them, and lets the RPC dispatcher find them by
// ThingsBoard name or local id.
import type { GpioChip } from "../../drivers/gpio/types.ts";
import type { Sensor } from "../../drivers/sensors/types.ts";
import type { DeviceConfig, SensorDeviceConfig } from "../config/schema.ts";
import type { DeviceSnapshot } from "../events.ts";
import type { ManagedDevice } from "./device.ts";
import type { DeviceContext, DeviceNameRecord } from "./deviceContext.ts";
import { GpioDevice } from "./gpioDevice.ts";
import { SensorDevice } from "./sensorDevice.ts";
import { PwmDevice } from "./pwmDevice.ts";
import type { PwmController } from "../../drivers/pwm/types.ts";
import { preview } from "../util/json.ts";

export interface HardwareAccess {
  gpio(): Promise<GpioChip>;
  openSensor(cfg: SensorDeviceConfig): Promise<Sensor>;
  /** The header's hardware PWM (issue 17); absent where no PWM is offered (some test rigs). */
  pwm?(): Promise<PwmController>;
}

/**
 * "{unit}" in a configured name is the unit identity; the default name is "{unit} {id}". A
 * DS18B20 with a ROM id is named by it unless the config names it (issue 17: several probes on
 * one pin, each its own ThingsBoard device); "{romId}" may also be used in a configured name.
 */
export function deviceName(cfg: DeviceConfig, unit: string): string {
  const romId =
    cfg.kind === "sensor" && cfg.chip === "ds18b20" && typeof cfg.options.romId === "string"
      ? cfg.options.romId.toLowerCase()
      : undefined;
  const template = cfg.name ?? (romId ? "{unit} {romId}" : "{unit} {id}");
  return template
    .replaceAll("{unit}", unit)
    .replaceAll("{id}", cfg.id)
    .replaceAll("{romId}", romId ?? cfg.id);
}

export class DeviceRuntime {
  #devices: ManagedDevice[] = [];
  #ctx: DeviceContext;
  #unit = "";
  #hw: HardwareAccess | null = null;
  #deleted = new Set<string>();
  /** Names of the deleted devices, for a cheap check per reading. */
  #deletedNames = new Set<string>();
  /** Names a device had before ThingsBoard renamed it: the server keeps using the old name on the
   *  existing sub-session until the next reconnect (server behaviour §5), so both must resolve. */
  #formerNames = new Map<string, string>();
  /** The name the config gives each device, by id. */
  #configured = new Map<string, string>();
  /** When a shared attribute update last arrived, per device id and key. */
  #pushedAt = new Map<string, Map<string, number>>();

  /** Devices ThingsBoard refused (device limit), by name: shown with their snapshots. */
  #parked = new Map<string, NonNullable<DeviceSnapshot["parked"]>>();

  constructor(ctx: DeviceContext) {
    this.#ctx = { ...ctx, parked: (name) => this.#parked.get(name) };
  }

  /** The bridge's parked devices changed: their cards show it. */
  setParked(list: Array<{ device: string; messages: number; points: number; retryAt: number }>): void {
    const before = new Set(this.#parked.keys());
    this.#parked = new Map(list.map((p) => [p.device, { messages: p.messages, points: p.points, retryAt: p.retryAt }]));
    for (const d of this.#devices)
      if (before.has(d.info.name) || this.#parked.has(d.info.name)) this.#ctx.bus.emit("deviceUpdated", d.snapshot());
  }

  async build(configs: DeviceConfig[], unit: string, hw: HardwareAccess): Promise<void> {
    this.#unit = unit;
    this.#hw = hw;
    const needsGpio = configs.some((c) => c.kind === "gpio");
    const chip = needsGpio ? await hw.gpio() : null;
    for (const cfg of configs) this.#devices.push(this.#create(cfg, chip));
    this.#applySavedNames();
  }

  #create(cfg: DeviceConfig, chip: GpioChip | null): ManagedDevice {
    const name = deviceName(cfg, this.#unit);
    this.#configured.set(cfg.id, name);
    const ctx = { ...this.#ctx, log: this.#ctx.log.child(cfg.id) };
    if (cfg.kind === "gpio") return new GpioDevice(cfg, name, chip as GpioChip, ctx);
    const hw = this.#hw as HardwareAccess;
    if (cfg.kind === "pwm")
      return new PwmDevice(
        cfg,
        name,
        () => (hw.pwm ? hw.pwm() : Promise.reject(new Error("no PWM on this hardware"))),
        ctx,
      );
    return new SensorDevice(cfg, name, () => hw.openSensor(cfg), ctx);
  }

  /** Adds and starts a device while running (added from the dashboard); the bridge announces it on devicesChanged. */
  async add(cfg: DeviceConfig): Promise<ManagedDevice> {
    if (!this.#hw) throw new Error("the device runtime is not built yet");
    if (this.#devices.some((d) => d.info.id === cfg.id)) throw new Error(`a device with id ${cfg.id} exists already`);
    const chip = cfg.kind === "gpio" ? await this.#hw.gpio() : null;
    const device = this.#create(cfg, chip);
    // A GPIO device claims its pins in start(); a failure there (pin busy) means it is not added.
    await device.start();
    const started = device.snapshot();
    if (cfg.kind === "gpio" && started.error) {
      await device.stop().catch(() => {});
      throw new Error(started.error);
    }
    this.#devices.push(device);
    this.#ctx.bus.emit("devicesChanged");
    return device;
  }

  /** Stops (outputs to their safe state) and removes a device while running. Returns it, or undefined. */
  async remove(id: string): Promise<ManagedDevice | undefined> {
    const d = this.#devices.find((x) => x.info.id === id);
    if (!d) return undefined;
    this.#devices = this.#devices.filter((x) => x !== d);
    this.#deleted.delete(id);
    this.#deletedNames.delete(d.info.name);
    this.#configured.delete(id);
    this.#ctx.names?.save(id, null);
    this.#pushedAt.delete(id);
    for (const [former, owner] of this.#formerNames) if (owner === id) this.#formerNames.delete(former);
    try {
      await d.stop();
    } finally {
      this.#ctx.bus.emit("devicesChanged");
    }
    return d;
  }

  /**
   * Renames and deletions done in ThingsBoard survive a restart: ThingsBoard looks devices up by
   * name, so a gateway that forgot a rename would create a new device under the old name and the
   * renamed one would go silent (gateway_device_renamed is sent once,
   * DefaultGatewayNotificationsService.onDeviceUpdated).
   */
  #applySavedNames(): void {
    const store = this.#ctx.names;
    if (!store) return;
    const saved = store.load();
    for (const [id, rec] of Object.entries(saved)) {
      const d = this.#devices.find((x) => x.info.id === id);
      if (!d || !isNameRecord(rec) || rec.configured !== this.#configured.get(id)) {
        // Gone from the config, or configured again under another name: the record no longer applies.
        store.save(id, null);
        continue;
      }
      if (rec.name && rec.name !== d.info.name) {
        this.#formerNames.set(d.info.name, id);
        d.rename(rec.name);
        this.#ctx.log.info(`device ${rec.configured} is called "${rec.name}" in ThingsBoard (renamed there)`);
      }
      if (rec.deleted) {
        this.#deleted.add(id);
        this.#deletedNames.add(d.info.name);
        this.#ctx.log.warn(
          `device ${d.info.name} was deleted in ThingsBoard; it stays stopped until it is configured again`,
        );
      }
    }
  }

  #saveName(d: ManagedDevice, change: Partial<DeviceNameRecord>): void {
    const configured = this.#configured.get(d.info.id);
    if (!configured || !this.#ctx.names) return;
    const cur = this.#ctx.names.load()[d.info.id];
    const base: DeviceNameRecord = cur && isNameRecord(cur) && cur.configured === configured ? cur : { configured };
    this.#ctx.names.save(d.info.id, { ...base, ...change });
  }

  /** Names ThingsBoard no longer uses -> the name it uses now (for messages queued under the old one). */
  renames(): Map<string, string> {
    const out = new Map<string, string>();
    for (const [old, id] of this.#formerNames) {
      const d = this.#devices.find((x) => x.info.id === id);
      if (d && d.info.name !== old) out.set(old, d.info.name);
    }
    return out;
  }

  async start(): Promise<void> {
    this.#ctx.bus.on(this, "sharedAttributes", (device, data, deleted) => {
      const d = this.find(device);
      if (!d) {
        this.#ctx.log.warn(`shared attributes for unknown device ${device}; ignored`);
        return;
      }
      this.#ctx.bus.emit("eventLog", {
        ts: Date.now(),
        kind: "attributes",
        device,
        text: `shared attributes ${preview({ ...data, ...(deleted.length ? { deleted } : {}) }, 300)}`,
      });
      const now = Date.now();
      const pushed = this.#pushedAt.get(d.info.id) ?? new Map<string, number>();
      for (const k of [...Object.keys(data), ...deleted]) pushed.set(k, now);
      this.#pushedAt.set(d.info.id, pushed);
      d.applyShared(data, deleted);
    });
    for (const d of this.#devices) {
      // Deleted in ThingsBoard: it stays stopped (sending for it would re-create it there).
      if (this.#deleted.has(d.info.id)) continue;
      try {
        await d.start();
      } catch (err) {
        this.#ctx.log.error(`device ${d.info.name} failed to start: ${(err as Error).message}`);
      }
    }
  }

  /**
   * Values fetched with an attribute request after a (re)connect. An update pushed by the server
   * while the request was on its way is newer than the answer, so those keys are skipped (found by
   * the reconnect test: a stale answer undid a shared attribute set right after reconnecting).
   */
  applyRequested(device: ManagedDevice, values: Record<string, unknown>, requestedAt: number): void {
    const pushed = this.#pushedAt.get(device.info.id);
    const fresh = Object.fromEntries(Object.entries(values).filter(([k]) => (pushed?.get(k) ?? 0) < requestedAt));
    if (Object.keys(fresh).length) device.applyShared(fresh, []);
  }

  async stop(): Promise<void> {
    this.#ctx.bus.removeListeners(this);
    for (const d of [...this.#devices].reverse()) {
      try {
        await d.stop();
      } catch (err) {
        this.#ctx.log.error(`device ${d.info.name} failed to stop: ${(err as Error).message}`);
      }
    }
  }

  /** Devices that are live (not deleted in ThingsBoard). */
  list(): ManagedDevice[] {
    return this.#devices.filter((d) => !this.#deleted.has(d.info.id));
  }

  find(nameOrId: string): ManagedDevice | undefined {
    const former = this.#formerNames.get(nameOrId);
    return (
      this.list().find((d) => d.info.name === nameOrId) ?? this.list().find((d) => d.info.id === (former ?? nameOrId))
    );
  }

  snapshots(): DeviceSnapshot[] {
    return this.#devices.map((d) => d.snapshot());
  }

  setOnline(online: boolean): void {
    for (const d of this.#devices) d.setOnline(online);
  }

  /** ThingsBoard renamed a device (gateway_device_renamed): switch to the new name. */
  rename(oldName: string, newName: string): boolean {
    const d = this.#devices.find((x) => x.info.name === oldName);
    if (!d) return false;
    this.#formerNames.set(oldName, d.info.id);
    d.rename(newName);
    this.#saveName(d, { name: newName });
    this.#ctx.bus.emit("devicesChanged");
    return true;
  }

  /** ThingsBoard deleted a device (gateway_device_deleted): stop using that name until restart/reconfig. */
  markDeleted(name: string): boolean {
    const d = this.#devices.find((x) => x.info.name === name);
    if (!d) return false;
    this.#deleted.add(d.info.id);
    this.#deletedNames.add(d.info.name);
    this.#saveName(d, { deleted: true });
    // Stopped, so it sends nothing more: anything sent under its name would re-create it.
    d.stop().catch((err: unknown) =>
      this.#ctx.log.error(`device ${d.info.name} failed to stop: ${(err as Error).message}`),
    );
    this.#ctx.bus.emit("devicesChanged");
    return true;
  }

  get deletedCount(): number {
    return this.#deletedNames.size;
  }

  isDeleted(name: string): boolean {
    return this.#deletedNames.has(name);
  }
}

function isNameRecord(v: unknown): v is DeviceNameRecord {
  if (typeof v !== "object" || v === null) return false;
  const r = v as Record<string, unknown>;
  return (
    typeof r.configured === "string" &&
    (r.name === undefined || typeof r.name === "string") &&
    (r.deleted === undefined || typeof r.deleted === "boolean")
  );
}
