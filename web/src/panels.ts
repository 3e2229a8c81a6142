// I2C scan results and the claim window indicator.
import type { I2cScanEntry } from "../../server/events.ts";
import type { ClaimInfo } from "../../server/http/protocol.ts";
import { byTestId, el, setText } from "./dom.ts";
import { clock, hex, until } from "./format.ts";
import { configSnippet } from "./configSnippet.ts";

/** onAdd: offer an "Add" button for an identified chip no device uses yet (admins only). */
export function renderI2c(entries: I2cScanEntry[] | null, onAdd?: (e: I2cScanEntry) => void): void {
  const table = byTestId<HTMLTableElement>("i2c-table");
  const body = table.tBodies[0];
  if (!entries || !body) {
    table.hidden = true;
    return;
  }
  setText(
    "i2c-status",
    entries.length === 0 ? "No device answered on the bus." : `${entries.length} address(es) answered.`,
  );
  body.replaceChildren(
    ...entries.map((e) =>
      el(
        "tr",
        { "data-testid": `i2c-row-${e.bus}-${hex(e.address)}` },
        el("td", { text: String(e.bus) }),
        el("td", { text: hex(e.address) }),
        el("td", { text: e.chip ?? "unknown" }),
        e.configured || !e.chip
          ? el("td", { text: e.configured ? "yes" : "no" })
          : el(
              "td",
              {},
              addButton(e, onAdd),
              el("code", {
                class: "snippet",
                "data-testid": `i2c-snippet-${e.bus}-${hex(e.address)}`,
                text: configSnippet(e),
              }),
            ),
      ),
    ),
  );
  table.hidden = false;
}

function addButton(e: I2cScanEntry, onAdd?: (e: I2cScanEntry) => void): HTMLElement {
  if (!onAdd) return el("span", { text: "no, add: " });
  const b = el("button", {
    type: "button",
    class: "small-btn admin-only",
    "data-testid": `i2c-add-${e.bus}-${hex(e.address)}`,
    text: "Add",
  });
  b.addEventListener("click", () => onAdd(e));
  return el("span", {}, el("span", { text: "no " }), b, el("span", { class: "muted small", text: " or paste: " }));
}

export class ClaimView {
  #windows = new Map<string, number>();
  #claimable = 0;

  /** The button only where there is something to claim: devices with a claim section in the config. */
  setClaimable(ids: string[]): void {
    this.#claimable = ids.length;
    byTestId("claim-button").hidden = ids.length === 0;
    this.tick();
  }

  add(info: ClaimInfo): void {
    this.#windows.set(info.device, info.until);
    this.tick();
  }

  tick(now = Date.now()): void {
    for (const [d, t] of this.#windows) if (t <= now) this.#windows.delete(d);
    const node = byTestId("claim-state");
    node.dataset["state"] = this.#windows.size > 0 ? "open" : "closed";
    if (this.#windows.size === 0) {
      setText(
        "claim-state",
        this.#claimable ? "No claim window open." : "No device has a claim section in the configuration.",
      );
      return;
    }
    const parts = [...this.#windows].map(
      ([d, t]) => `${d} until ${clock(t)} (${until(t, now).replace(/^in /, "")} left)`,
    );
    setText("claim-state", `Claim open: ${parts.join("; ")}`);
  }
}
