// The add/edit form for devices added from the page: a GPIO output or input, or a chip the I2C
// scan identified. It only builds a config entry; the appliance validates it with the config
// schema and answers with the errors to show.
import type { I2cScanEntry } from "../../server/events.ts";
import { byTestId, detached } from "./dom.ts";
import { hex } from "./format.ts";

export type DeviceEntry = Record<string, unknown>;

export interface FormTarget {
  kind: "gpio" | "sensor";
  /** Editing this device (its stored entry); absent when adding. */
  editing?: { id: string; entry: DeviceEntry };
  /** Adding a scanned chip. */
  chip?: I2cScanEntry;
}

type Save = (entry: DeviceEntry, editingId: string | undefined) => Promise<string | null>;

function input(name: string): HTMLInputElement | HTMLSelectElement {
  return byTestId<HTMLFormElement>("device-form").elements.namedItem(name) as HTMLInputElement | HTMLSelectElement;
}

function str(v: unknown): string {
  return typeof v === "string" ? v : "";
}

function num(name: string): number | undefined {
  const v = input(name).value.trim();
  return v === "" ? undefined : Number(v);
}

export class DeviceForm {
  #target: FormTarget | null = null;
  #save: Save;

  constructor(save: Save) {
    this.#save = save;
    const form = byTestId<HTMLFormElement>("device-form");
    form.addEventListener("submit", (e) => {
      e.preventDefault();
      detached("saving the device", this.#submit());
    });
    byTestId("device-form-cancel").addEventListener("click", () => this.close());
  }

  open(target: FormTarget): void {
    this.#target = target;
    const dialog = byTestId<HTMLDialogElement>("device-dialog");
    const form = byTestId<HTMLFormElement>("device-form");
    form.reset();
    byTestId("device-form-error").textContent = "";
    for (const node of form.querySelectorAll<HTMLElement>("[data-kind-only]"))
      node.hidden = node.dataset["kindOnly"] !== target.kind;
    const e = target.editing?.entry ?? {};
    const report = (e["report"] ?? {}) as { strategy?: string; periodSec?: number };
    input("id").value = str(e["id"]) || (target.chip ? `${target.chip.chip}_${target.chip.address.toString(16)}` : "");
    input("name").value = typeof e["name"] === "string" ? e["name"] : "";
    if (report.strategy) input("strategy").value = report.strategy;
    if (report.periodSec !== undefined) input("periodSec").value = String(report.periodSec);
    if (target.kind === "gpio") {
      const out = (e["outputs"] as DeviceEntry[] | undefined)?.[0];
      const inp = (e["inputs"] as DeviceEntry[] | undefined)?.[0];
      const pin = out ?? inp;
      input("pin").value = pin ? String(pin["pin"]) : "";
      input("direction").value = inp && !out ? "input" : "output";
      input("label").value = typeof pin?.["label"] === "string" ? pin["label"] : "";
      if (!report.strategy) input("strategy").value = "onChange";
    } else if (typeof e["intervalSec"] === "number") input("intervalSec").value = String(e["intervalSec"]);
    const chip =
      target.chip ??
      (target.editing
        ? { chip: str(e["chip"]), bus: Number(e["bus"] ?? 1), address: Number(e["address"] ?? 0) }
        : null);
    byTestId("device-form-what").textContent =
      target.kind === "sensor" && chip
        ? `${chip.chip?.toUpperCase()} on I2C bus ${chip.bus} at ${hex(chip.address)}`
        : "One GPIO pin: an output the page and ThingsBoard can switch, or an input they can watch.";
    byTestId("device-form-title").textContent = target.editing
      ? `Edit ${target.editing.id}`
      : target.kind === "gpio"
        ? "Add a GPIO device"
        : "Add a sensor";
    if (!dialog.open) dialog.showModal();
    input("id").focus();
  }

  close(): void {
    const dialog = byTestId<HTMLDialogElement>("device-dialog");
    if (dialog.open) dialog.close();
    this.#target = null;
  }

  #entry(t: FormTarget): DeviceEntry {
    const base: DeviceEntry = { ...t.editing?.entry };
    base["id"] = input("id").value.trim();
    const name = input("name").value.trim();
    if (name) base["name"] = name;
    else delete base["name"];
    const periodSec = num("periodSec");
    base["report"] = {
      ...(base["report"] as DeviceEntry | undefined),
      strategy: input("strategy").value,
      ...(periodSec !== undefined ? { periodSec } : {}),
    };
    if (t.kind === "gpio") {
      base["kind"] = "gpio";
      const label = input("label").value.trim();
      const pin = { pin: num("pin"), ...(label ? { label } : {}) };
      const output = input("direction").value === "output";
      delete base["outputs"];
      delete base["inputs"];
      base[output ? "outputs" : "inputs"] = [pin];
    } else {
      base["kind"] = "sensor";
      if (t.chip) Object.assign(base, { chip: t.chip.chip, bus: t.chip.bus, address: t.chip.address });
      const interval = num("intervalSec");
      if (interval !== undefined) base["intervalSec"] = interval;
    }
    // In the order a person writes a config entry, so the YAML export reads naturally.
    const order = ["id", "kind", "name", "chip", "bus", "address", "intervalSec", "outputs", "inputs", "report"];
    const out: DeviceEntry = {};
    for (const k of order) if (k in base) out[k] = base[k];
    for (const [k, v] of Object.entries(base)) if (!(k in out)) out[k] = v;
    return out;
  }

  async #submit(): Promise<void> {
    const t = this.#target;
    if (!t) return;
    const save = byTestId<HTMLButtonElement>("device-form-save");
    save.disabled = true;
    try {
      const error = await this.#save(this.#entry(t), t.editing?.id);
      if (error) byTestId("device-form-error").textContent = error;
      else this.close();
    } finally {
      save.disabled = false;
    }
  }
}
