// Devices added, edited and removed from the dashboard (issue 14). The main config file stays
// root-owned and read-only to the service (scripts/rpi-tb-gateway.service), so these live in
// data/devices.local.json, merged after the main config's devices, validated by the same schema
// and cross-checks (ids, names, pins), applied without a restart, and exportable as YAML to paste
// into the main config.
import { stringify } from "yaml";
import { validateConfig } from "../config/load.ts";
import type { Config, DeviceConfig } from "../config/schema.ts";
import type { DeviceRuntime } from "../devices/runtime.ts";
import type { EventBus } from "../eventBus.ts";
import { StateStore } from "../state/stateStore.ts";
import { isObject } from "../util/json.ts";
import type { Logger } from "../util/logger.ts";

export interface PageDevicesOptions {
  file: string;
  /** The main configuration (its devices come first and cannot be changed from the page). */
  config: Config;
  runtime: DeviceRuntime;
  bus: EventBus;
  log: Logger;
  /** Tell ThingsBoard the device is gone from this gateway (v1/gateway/disconnect). */
  disconnect(name: string): Promise<void>;
  /** Drop its chart history. */
  forgetHistory(id: string): void;
  /** The set of devices changed (header view, I2C scan marks). */
  onChanged(devices: DeviceConfig[]): void;
}

export type ChangeResult = { ok: true; id: string } | { ok: false; errors: string[] };

interface LocalFile {
  version: 1;
  /** Entries as the page sent them (validated), so the export reads like a hand-written config. */
  devices: Record<string, unknown>[];
}

export class PageDevices {
  #o: PageDevicesOptions;
  #store: StateStore<LocalFile>;
  /** Parsed entries, in the file's order; #raw[i] is what the page sent for #parsed[i]. */
  #parsed: DeviceConfig[] = [];
  #raw: Record<string, unknown>[] = [];
  /** Entries that stopped validating (the main config changed since): kept in the file for a human, not run. */
  #invalid: Record<string, unknown>[] = [];
  /** One change at a time: two admins clicking at once must not interleave validate and apply. */
  #queue: Promise<unknown> = Promise.resolve();

  private constructor(o: PageDevicesOptions, store: StateStore<LocalFile>) {
    this.#o = o;
    this.#store = store;
  }

  /** Reads the file; an entry that no longer validates against the main config (edited since) is skipped and logged, not fatal. */
  static async open(o: PageDevicesOptions): Promise<PageDevices> {
    const store = await StateStore.open<LocalFile>(
      o.file,
      { version: 1, devices: [] },
      { log: o.log, writeDelayMs: 0, mode: 0o600 },
    );
    const self = new PageDevices(o, store);
    const raw = Array.isArray(store.data.devices) ? store.data.devices.filter(isObject) : [];
    const kept: Record<string, unknown>[] = [];
    for (const entry of raw) {
      const r = self.#validate([...kept, entry]);
      if (r.ok) kept.push(entry);
      else {
        self.#invalid.push(entry);
        o.log.error(
          `device from the dashboard ${String(entry["id"]).slice(0, 64)} in ${o.file} is not valid with the current config and is not started: ${r.errors.join("; ")}`,
        );
      }
    }
    self.#raw = kept;
    const r = self.#validate(kept);
    self.#parsed = r.ok ? r.devices.slice(o.config.devices.length) : [];
    return self;
  }

  /** The main config's devices, then the page's. */
  merged(): DeviceConfig[] {
    return [...this.#o.config.devices, ...this.#parsed];
  }

  ids(): string[] {
    return this.#parsed.map((d) => d.id);
  }

  /** The stored entry of a device added from the page (a copy), or undefined. */
  entry(id: string): Record<string, unknown> | undefined {
    const at = this.#parsed.findIndex((d) => d.id === id);
    return at < 0 ? undefined : structuredClone(this.#raw[at]);
  }

  #validate(local: Record<string, unknown>[]): { ok: true; devices: DeviceConfig[] } | { ok: false; errors: string[] } {
    const base = this.#o.config.devices.length;
    const r = validateConfig({ ...this.#o.config, devices: [...this.#o.config.devices, ...local] });
    if (r.ok) return { ok: true, devices: r.config.devices };
    // Name the page's entry as the page sees it, not by its index in the merged list.
    const last = base + local.length - 1;
    return { ok: false, errors: r.errors.map((e) => e.replaceAll(`devices[${last}]`, "device")) };
  }

  #serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.#queue.then(fn, fn);
    this.#queue = run.catch(() => undefined);
    return run;
  }

  add(input: Record<string, unknown>): Promise<ChangeResult> {
    return this.#serial(async () => {
      const raw = [...this.#raw, input];
      const r = this.#validate(raw);
      if (!r.ok) return r;
      const cfg = r.devices.at(-1) as DeviceConfig;
      try {
        await this.#o.runtime.add(cfg);
      } catch (err) {
        return { ok: false, errors: [`device: cannot start: ${(err as Error).message}`] };
      }
      await this.#save(raw, r.devices);
      this.#log(`device ${cfg.id} added from the dashboard`);
      return { ok: true, id: cfg.id };
    });
  }

  update(id: string, input: Record<string, unknown>): Promise<ChangeResult> {
    return this.#serial(async () => {
      const at = this.#parsed.findIndex((d) => d.id === id);
      if (at < 0) return { ok: false, errors: [this.#notOurs(id)] };
      // The edited entry goes last, so validation errors name it "device".
      const others = this.#raw.filter((_, i) => i !== at);
      const r = this.#validate([...others, input]);
      if (!r.ok) return r;
      const cfg = r.devices.at(-1) as DeviceConfig;
      const old = await this.#o.runtime.remove(id);
      if (old)
        await this.#o
          .disconnect(old.info.name)
          .catch((err: Error) => this.#o.log.warn(`disconnect of ${old.info.name}: ${err.message}`));
      try {
        await this.#o.runtime.add(cfg);
      } catch (err) {
        // Put the old one back: an edit that cannot start changes nothing.
        const prev = this.#parsed[at];
        if (prev)
          await this.#o.runtime
            .add(prev)
            .catch((e: Error) => this.#o.log.error(`could not restore ${id}: ${e.message}`));
        return { ok: false, errors: [`device: cannot start: ${(err as Error).message}`] };
      }
      if (cfg.id !== id) this.#o.forgetHistory(id);
      await this.#save([...others, input], r.devices);
      this.#log(`device ${id} changed from the dashboard`);
      return { ok: true, id: cfg.id };
    });
  }

  remove(id: string): Promise<ChangeResult> {
    return this.#serial(async () => {
      const at = this.#parsed.findIndex((d) => d.id === id);
      if (at < 0) return { ok: false, errors: [this.#notOurs(id)] };
      const raw = this.#raw.filter((_, i) => i !== at);
      const old = await this.#o.runtime.remove(id);
      if (old)
        await this.#o
          .disconnect(old.info.name)
          .catch((err: Error) => this.#o.log.warn(`disconnect of ${old.info.name}: ${err.message}`));
      this.#o.forgetHistory(id);
      const r = this.#validate(raw);
      await this.#save(raw, r.ok ? r.devices : this.merged().filter((d) => d.id !== id));
      this.#log(`device ${id} removed from the dashboard`);
      return { ok: true, id };
    });
  }

  /** The page's devices as a block to paste under `devices:` in the main config. */
  exportYaml(): string {
    if (this.#raw.length === 0) return "# No devices were added from the dashboard.\n";
    const body = stringify(this.#raw, { indent: 2 });
    return `# Devices added from the dashboard (${this.#o.file}).\n# Paste under "devices:" in the main config, then remove them from the page.\n${body}`;
  }

  #notOurs(id: string): string {
    return this.#o.config.devices.some((d) => d.id === id)
      ? `device ${id} is in the main config file, which the appliance cannot change: edit it there`
      : `no device ${id} was added from the dashboard`;
  }

  async #save(raw: Record<string, unknown>[], merged: DeviceConfig[]): Promise<void> {
    this.#raw = raw;
    this.#store.update((d) => {
      d.devices = [...raw, ...this.#invalid];
    });
    this.#parsed = merged.slice(this.#o.config.devices.length);
    this.#o.onChanged(this.merged());
    try {
      await this.#store.flush();
    } catch (err) {
      this.#o.log.error(`cannot save ${this.#o.file}: ${(err as Error).message}; the change holds until restart`);
    }
  }

  #log(text: string): void {
    this.#o.log.info(text);
    this.#o.bus.emit("eventLog", { ts: Date.now(), kind: "info", text });
  }

  close(): Promise<void> {
    return this.#store.close();
  }
}
