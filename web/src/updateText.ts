// The "Software update" rows of the Appliance card, as text (no DOM: tested under node).
import type { UpdateSource, UpdateStatus } from "../../server/events.ts";

/** The version an upload shows until its manifest has been read (server/features/ota/applyPackage.ts). */
const UPLOAD_VERSION = "(upload)";

function from(s: UpdateSource | undefined): string {
  return s?.kind === "upload" ? ` (uploaded by ${s.by})` : "";
}

/** Issue 16: the update in progress (state and bytes so far) and the last result, from ThingsBoard or an upload. */
export function updateText(u: UpdateStatus | null | undefined): { now: string; last: string } {
  if (!u) return { now: "off (gateway.ota.enabled)", last: "–" };
  let now = "none";
  if (u.trial) now = `${u.running.version} on trial (rolled back unless healthy)`;
  else if (u.state && u.state !== "UPDATED" && u.state !== "FAILED" && u.target) {
    const pct =
      u.target.size > 0 && u.received !== undefined ? ` ${Math.floor((100 * u.received) / u.target.size)} %` : "";
    const what = u.target.version === UPLOAD_VERSION ? "uploaded package" : u.target.version;
    const doing =
      u.state === "UPDATING"
        ? "restarting to apply"
        : u.state === "DOWNLOADING" && u.source?.kind === "upload"
          ? "receiving"
          : u.state.toLowerCase();
    now = `${what}: ${doing}${u.state === "DOWNLOADING" ? pct : ""}`;
  }
  const l = u.last;
  const last = l
    ? `${l.version || "package"} ${l.state === "UPDATED" ? "updated" : `failed: ${l.error ?? "?"}`}${from(l.source)}`
    : "–";
  return { now, last };
}
