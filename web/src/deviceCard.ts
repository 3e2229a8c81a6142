// One device: name, health, last update (ticking), values with units, a live chart for sensors,
// switches for GPIO outputs and indicators for inputs. The state shown is always what the server
// last reported: a click sends a command, and the switch moves when the device says it moved.
import type { DeviceSnapshot, PinInfo } from "../../server/events.ts";
import type { ReadingValue } from "../../server/readings.ts";
import type { Ack, ControlRequest } from "../../server/http/protocol.ts";
import { SparkChart } from "./chart.ts";
import { detached, el } from "./dom.ts";
import { buildPwmControls, updatePwmControls } from "./pwmControls.ts";
import { ago, value as formatValue } from "./format.ts";
import type { History } from "./history.ts";

export interface CardDeps {
  canControl: boolean;
  control(req: ControlRequest): Promise<Ack>;
  onError(message: string): void;
  history: History;
  /** Added from this page: show it, and (admins) offer edit and remove. */
  fromPage: boolean;
  onEdit(d: DeviceSnapshot): void;
  onRemove(d: DeviceSnapshot): void;
}

/** GPIO values are keyed by pin label (default "gpio<N>", server/devices/gpioDevice.ts); older keys are accepted too. */
export function pinValue(d: DeviceSnapshot, p: PinInfo): boolean | null {
  const v = d.values[p.label] ?? d.values[`gpio${p.pin}`] ?? d.values[String(p.pin)];
  if (v === undefined) return null;
  if (typeof v === "boolean") return v;
  if (typeof v === "number") return v !== 0;
  if (typeof v === "string") return ["1", "on", "true", "high"].includes(v.toLowerCase());
  return null;
}

function numericKeys(d: DeviceSnapshot): string[] {
  return Object.keys(d.values).filter((k) => typeof d.values[k] === "number");
}

/** Cards are rebuilt only when this changes; values are updated in place. */
export function structureKey(d: DeviceSnapshot): string {
  const keys = d.kind === "sensor" ? Object.keys(d.values).sort() : [];
  return JSON.stringify([d.kind, d.name, d.chip, d.outputs, d.inputs, d.pwm, keys]);
}

export class DeviceCard {
  readonly root: HTMLElement;
  readonly structure: string;
  #d: DeviceSnapshot;
  #deps: CardDeps;
  #chart: SparkChart | null = null;
  #chartKey: string | null = null;

  constructor(d: DeviceSnapshot, deps: CardDeps) {
    this.#d = d;
    this.#deps = deps;
    this.structure = structureKey(d);
    this.root = this.#build();
    this.update(d);
  }

  get id(): string {
    return this.#d.id;
  }

  get name(): string {
    return this.#d.name;
  }

  get fromPage(): boolean {
    return this.#deps.fromPage;
  }

  get hasChart(): boolean {
    return this.#chart !== null;
  }

  #build(): HTMLElement {
    const d = this.#d;
    const id = d.id;
    const kind = d.kind === "sensor" ? (d.chip ?? "sensor").toUpperCase() : d.kind === "pwm" ? "PWM" : "GPIO";
    const head = el(
      "div",
      { class: "card-head" },
      el("h3", {}, el("span", { text: d.name }), el("small", { class: "muted", text: ` ${kind}` })),
      el("span", { class: "badge", "data-testid": `health-${id}` }),
    );
    const meta = el("p", { class: "muted small" }, "updated ", el("span", { "data-testid": `updated-${id}` }));
    const error = el("p", { class: "error small", "data-testid": `error-${id}`, hidden: true });
    const body = el("div", { class: "device-body" });
    if (d.kind === "sensor") {
      const values = el("div", { class: "values" });
      for (const key of Object.keys(d.values).sort()) {
        const btn = el(
          "button",
          {
            type: "button",
            class: "value",
            "data-key": key,
            "data-testid": `value-${id}-${key}`,
            "aria-pressed": "false",
          },
          el("span", { class: "k", text: key }),
          el("span", { class: "v" }),
        );
        btn.addEventListener("click", () => this.#selectChart(key));
        values.append(btn);
      }
      body.append(values);
      const chartBox = el("div", { class: "chart", "data-testid": `chart-${id}` });
      body.append(chartBox);
      this.#chart = new SparkChart(chartBox, () => this.#deps.history.rangeMs);
      this.#chartKey = numericKeys(d)[0] ?? null;
      if (this.#deps.canControl) {
        const read = el("button", {
          type: "button",
          class: "small-btn",
          "data-testid": `read-${id}`,
          text: "Read now",
        });
        read.addEventListener("click", () =>
          detached("read now", this.#send({ device: id, method: "read_now" }, read)),
        );
        body.append(read);
      }
    } else if (d.kind === "pwm") {
      body.append(...buildPwmControls(d, this.#deps.canControl, (req, control) => this.#send(req, control)));
    } else {
      for (const o of d.outputs ?? []) {
        const sw = el(
          "button",
          {
            type: "button",
            role: "switch",
            class: "switch",
            "aria-checked": "false",
            "data-testid": `switch-${id}-${o.pin}`,
            disabled: !this.#deps.canControl,
            title: `GPIO ${o.pin}`,
          },
          el("span", { class: "track" }, el("span", { class: "thumb" })),
          el("span", { class: "label", text: o.label }),
        );
        sw.addEventListener("click", () => {
          const on = sw.getAttribute("aria-checked") === "true";
          detached(
            "switching an output",
            this.#send({ device: id, method: "setGpioStatus", params: { pin: o.pin, enabled: !on } }, sw),
          );
        });
        body.append(sw);
      }
      for (const i of d.inputs ?? []) {
        body.append(
          el(
            "span",
            { class: "led", "data-testid": `input-${id}-${i.pin}`, "data-state": "unknown", title: `GPIO ${i.pin}` },
            el("span", { class: "dot" }),
            el("span", { class: "label", text: i.label }),
          ),
        );
      }
    }
    const foot = this.#deps.fromPage ? this.#pageFoot() : null;
    return el(
      "article",
      {
        class: "card device",
        "data-testid": `device-${id}`,
        "data-kind": d.kind,
        "data-source": this.#deps.fromPage ? "page" : "config",
      },
      head,
      meta,
      error,
      body,
      foot,
    );
  }

  #pageFoot(): HTMLElement {
    const id = this.#d.id;
    const foot = el(
      "div",
      { class: "page-foot" },
      el("span", { class: "tag", "data-testid": `from-page-${id}`, text: "added from this page" }),
    );
    if (this.#deps.canControl) {
      const edit = el("button", { type: "button", class: "small-btn", "data-testid": `edit-${id}`, text: "Edit" });
      const remove = el("button", {
        type: "button",
        class: "small-btn danger",
        "data-testid": `remove-${id}`,
        text: "Remove",
      });
      edit.addEventListener("click", () => this.#deps.onEdit(this.#d));
      remove.addEventListener("click", () => this.#deps.onRemove(this.#d));
      foot.append(edit, remove);
    }
    return foot;
  }

  async #send(req: ControlRequest, button: HTMLElement): Promise<void> {
    if (button.getAttribute("aria-busy") === "true") return;
    button.setAttribute("aria-busy", "true");
    try {
      const reply = await this.#deps.control(req);
      if (!reply.ok) {
        this.#deps.onError(`${this.#d.name}: ${reply.error}`);
        this.update(this.#d); // a refused value: show the output's real one again
      }
    } finally {
      button.removeAttribute("aria-busy");
    }
  }

  #selectChart(key: string): void {
    if (typeof this.#d.values[key] !== "number") return;
    this.#chartKey = key;
    this.#renderChart();
  }

  /** Redraw after the history changed (stored points arrived, another range was picked). */
  redrawChart(rebuild = false): void {
    this.#renderChart(rebuild);
  }

  #renderChart(rebuild = false): void {
    if (!this.#chart || !this.#chartKey) return;
    for (const b of this.root.querySelectorAll<HTMLElement>(".value"))
      b.setAttribute("aria-pressed", String(b.dataset["key"] === this.#chartKey));
    const unit = this.#d.units[this.#chartKey];
    this.#chart.show(
      unit ? `${this.#chartKey} (${unit})` : this.#chartKey,
      this.#deps.history.series(this.#d.id, this.#chartKey),
      rebuild,
    );
  }

  update(d: DeviceSnapshot): void {
    this.#d = d;
    const id = d.id;
    const health = this.root.querySelector<HTMLElement>(`[data-testid="health-${CSS.escape(id)}"]`);
    if (health) {
      health.textContent = d.health;
      health.dataset["state"] = d.health;
    }
    const error = this.root.querySelector<HTMLElement>(`[data-testid="error-${CSS.escape(id)}"]`);
    if (error) {
      // A device ThingsBoard refused (the tenant's device limit) has its messages held (issue 10).
      const parked = d.parked
        ? `ThingsBoard refused this device (device limit reached): ${d.parked.messages} message(s), ${d.parked.points} value(s) held; next try at ${new Date(d.parked.retryAt).toLocaleTimeString()}`
        : "";
      const text = [d.error, parked].filter(Boolean).join(" · ");
      error.textContent = text;
      error.hidden = !text;
    }
    this.tick();
    if (d.kind === "sensor") {
      for (const b of this.root.querySelectorAll<HTMLElement>(".value")) {
        const key = b.dataset["key"] ?? "";
        const v = b.querySelector(".v");
        const raw: ReadingValue | undefined = d.values[key];
        if (v) v.textContent = formatValue(raw, d.units[key]);
        if (typeof raw === "number" && d.updatedAt !== null) this.#deps.history.add(id, key, d.updatedAt, raw);
      }
      this.#renderChart();
    } else if (d.kind === "pwm") {
      updatePwmControls(this.root, d);
    } else {
      for (const o of d.outputs ?? []) {
        const sw = this.root.querySelector<HTMLElement>(`[data-testid="switch-${CSS.escape(id)}-${o.pin}"]`);
        const on = pinValue(d, o);
        sw?.setAttribute("aria-checked", String(on === true));
        if (sw) sw.dataset["state"] = on === null ? "unknown" : on ? "on" : "off";
      }
      for (const i of d.inputs ?? []) {
        const led = this.root.querySelector<HTMLElement>(`[data-testid="input-${CSS.escape(id)}-${i.pin}"]`);
        const on = pinValue(d, i);
        if (led) led.dataset["state"] = on === null ? "unknown" : on ? "on" : "off";
      }
    }
  }

  /** Refreshes the "3 s ago" text; called every second. */
  tick(now = Date.now()): void {
    const updated = this.root.querySelector<HTMLElement>(`[data-testid="updated-${CSS.escape(this.#d.id)}"]`);
    if (updated) {
      const text = ago(this.#d.updatedAt, now);
      if (updated.textContent !== text) updated.textContent = text;
    }
  }

  destroy(): void {
    this.#chart?.destroy();
    this.root.remove();
  }
}
