// The 40-pin header drawn as on the board: odd pins on the left, even on the right, pin 1 at the
// top. Each pin shows its physical and BCM number, power and ground, what the configuration puts
// on it, the live level of GPIO inputs and outputs, and conflicts (marked red, with the reason).
import type { HeaderPin } from "../../server/config/gpioHeader.ts";
import type { DeviceSnapshot } from "../../server/events.ts";
import { pinValue } from "./deviceCard.ts";
import { byTestId, el } from "./dom.ts";

function kindOf(p: HeaderPin): string {
  if (p.power) return p.power;
  if (p.conflict) return "conflict";
  return p.uses[0]?.role ?? "free";
}

function describe(p: HeaderPin): string {
  if (p.power) return ""; // the name says it: 3V3, 5V, GND
  const parts: string[] = [];
  for (const u of p.uses) {
    if (u.role === "output" || u.role === "input") parts.push(`${u.role} ${u.label} (${u.device ?? ""})`);
    else if (u.role === "claim") parts.push("claim button");
    else if (u.role === "dht") parts.push(`${u.label.toUpperCase()} data (${u.device ?? ""})`);
    else if (u.role === "pwm") parts.push(`PWM ${u.label} (${u.device ?? ""})`);
  }
  const w1 = p.uses.filter((u) => u.role === "w1").map((u) => u.device ?? u.label);
  if (w1.length) parts.push(`1-Wire: ${w1.join(", ")}`);
  const i2c = p.uses.filter((u) => u.role === "i2c").map((u) => u.label);
  if (i2c.length) parts.push(`${p.alt ?? "I2C"}: ${[...new Set(i2c)].join(", ")}`);
  if (p.uses.some((u) => u.role === "uart")) parts.push(`${p.alt ?? "UART"} (serial console)`);
  return parts.join(" + ") || p.alt || "";
}

export class HeaderView {
  #pins: HeaderPin[] = [];
  #signature = "";

  /** The layout changes only with the configuration; levels change live (update()). */
  render(pins: HeaderPin[], devices: DeviceSnapshot[]): void {
    const signature = JSON.stringify(pins);
    if (signature !== this.#signature) {
      this.#signature = signature;
      this.#pins = pins;
      const grid = byTestId("gpio-header");
      const rows: HTMLElement[] = [];
      for (let i = 0; i < pins.length; i += 2) {
        const left = pins[i];
        const right = pins[i + 1];
        if (!left || !right) continue;
        rows.push(el("div", { class: "hrow" }, this.#cell(left, "left"), this.#cell(right, "right")));
      }
      grid.replaceChildren(...rows);
      const conflicts = pins.filter((p) => p.conflict).map((p) => p.conflict as string);
      const note = byTestId("gpio-conflicts");
      note.textContent = conflicts.join("\n");
      note.hidden = conflicts.length === 0;
    }
    this.update(devices);
  }

  #cell(p: HeaderPin, side: "left" | "right"): HTMLElement {
    const name = p.bcm === null ? (p.power === "gnd" ? "GND" : p.power === "3v3" ? "3V3" : "5V") : `GPIO${p.bcm}`;
    // The full text for narrow screens, where the role is cut short.
    const title = [
      `physical pin ${p.physical}`,
      p.bcm !== null ? `BCM ${p.bcm}` : "",
      describe(p),
      p.alt ?? "",
      p.conflict ?? "",
    ]
      .filter(Boolean)
      .join(" · ");
    const parts = [
      el("span", { class: "hdot" }),
      el("span", { class: "hnum", text: String(p.physical) }),
      el("span", { class: "hname", text: name }),
      el("span", { class: "hrole", text: describe(p) }),
      el("span", { class: "hlevel", "data-testid": `pin-level-${p.physical}` }),
    ];
    if (side === "left") parts.reverse();
    return el(
      "div",
      {
        class: `hpin ${side}`,
        "data-testid": `pin-${p.physical}`,
        "data-kind": kindOf(p),
        "data-conflict": p.conflict ? "true" : undefined,
        title,
      },
      ...parts,
    );
  }

  /** Live levels of configured GPIO inputs and outputs, from the devices' values. */
  update(devices: DeviceSnapshot[]): void {
    for (const p of this.#pins) {
      const use = p.uses.find((u) => u.role === "output" || u.role === "input");
      if (!use || p.bcm === null) continue;
      const d = devices.find((x) => x.id === use.device);
      const info = d && [...(d.outputs ?? []), ...(d.inputs ?? [])].find((x) => x.pin === p.bcm);
      const level = d && info ? pinValue(d, info) : null;
      const node = document.querySelector<HTMLElement>(`[data-testid="pin-${p.physical}"]`);
      if (!node) continue;
      const state = level === null ? "unknown" : level ? "on" : "off";
      if (node.dataset["level"] !== state) {
        node.dataset["level"] = state;
        const text = node.querySelector<HTMLElement>(".hlevel");
        if (text) text.textContent = level === null ? "" : level ? "on" : "off";
      }
    }
  }
}
