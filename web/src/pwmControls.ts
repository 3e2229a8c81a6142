// PWM outputs on a device card (issue 17): one slider per output, duty 0-100 % or a servo's pulse
// in µs within its limits. Releasing the slider sends setPwm through the one RPC path; the
// slider then follows what the device reports, so it shows the output's real value, and a value
// set from ThingsBoard moves it. While the user holds it, reports do not yank it back.
import type { DeviceSnapshot, PwmInfo } from "../../server/events.ts";
import type { ControlRequest } from "../../server/http/protocol.ts";
import { detached, el } from "./dom.ts";

function display(p: PwmInfo, value: number): string {
  return p.mode === "servo" ? `${Math.round(value)} µs` : `${Math.round(value * 100)} %`;
}

export function buildPwmControls(
  d: DeviceSnapshot,
  canControl: boolean,
  send: (req: ControlRequest, control: HTMLElement) => Promise<void>,
): HTMLElement[] {
  return (d.pwm ?? []).map((p) => {
    const slider = el("input", {
      type: "range",
      min: p.min,
      max: p.max,
      step: p.step,
      value: p.min,
      "data-testid": `pwm-${d.id}-${p.pin}`,
      "aria-label": `${p.label} (GPIO ${p.pin})`,
      disabled: !canControl,
    });
    const shown = el("span", { class: "v", "data-testid": `pwm-value-${d.id}-${p.pin}` });
    slider.addEventListener("input", () => {
      slider.dataset["held"] = "true";
      shown.textContent = display(p, Number(slider.value));
    });
    slider.addEventListener("change", () => {
      delete slider.dataset["held"];
      const v = Number(slider.value);
      const params = p.mode === "servo" ? { pin: p.pin, pulseUs: v } : { pin: p.pin, duty: v };
      detached("setting a PWM output", send({ device: d.id, method: "setPwm", params }, slider));
    });
    return el(
      "label",
      { class: "pwm", title: `GPIO ${p.pin}` },
      el("span", { class: "label", text: p.label }),
      slider,
      shown,
    );
  });
}

export function updatePwmControls(root: HTMLElement, d: DeviceSnapshot): void {
  for (const p of d.pwm ?? []) {
    const raw = d.values[p.label];
    if (typeof raw !== "number") continue;
    const slider = root.querySelector<HTMLInputElement>(`[data-testid="pwm-${CSS.escape(d.id)}-${p.pin}"]`);
    const shown = root.querySelector<HTMLElement>(`[data-testid="pwm-value-${CSS.escape(d.id)}-${p.pin}"]`);
    if (slider && slider.dataset["held"] !== "true") slider.value = String(raw);
    if (shown && slider?.dataset["held"] !== "true")
      shown.textContent = p.mode === "servo" && raw === 0 ? "off" : display(p, raw);
  }
}
