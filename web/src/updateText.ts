// The "Software update" rows of the Appliance card, as text (no DOM: tested under node).
import type { UpdateStatus } from "../../server/events.ts";

/** Issue 16: the update in progress (state and bytes so far) and the last result, from ThingsBoard OTA. */
export function updateText(u: UpdateStatus | null | undefined): { now: string; last: string } {
  if (!u) return { now: "off (gateway.ota.enabled)", last: "–" };
  let now = "none";
  if (u.trial) now = `${u.running.version} on trial (rolled back unless healthy)`;
  else if (u.state && u.state !== "UPDATED" && u.state !== "FAILED" && u.target) {
    const pct =
      u.target.size > 0 && u.received !== undefined ? ` ${Math.floor((100 * u.received) / u.target.size)} %` : "";
    now = `${u.target.version}: ${u.state.toLowerCase()}${u.state === "DOWNLOADING" ? pct : ""}`;
  }
  const l = u.last;
  const last = l ? `${l.version} ${l.state === "UPDATED" ? "updated" : `failed: ${l.error ?? "?"}`}` : "–";
  return { now, last };
}
