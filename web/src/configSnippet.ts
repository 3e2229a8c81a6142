// No DOM here: the server-side test checks that the line is a valid config entry.
import type { I2cScanEntry } from "../../server/events.ts";
import { hex } from "./format.ts";

/** A ready-to-paste device entry for config.yaml: the service cannot edit its own config file
 *  (root-owned, read-only under the systemd hardening), so the dashboard offers the line instead. */
export function configSnippet(e: I2cScanEntry): string {
  const id = `${e.chip}_${e.address.toString(16)}`;
  return `- { id: ${id}, kind: sensor, chip: ${e.chip}, bus: ${e.bus}, address: ${hex(e.address)} }`;
}
