// Child of onoffChip.test.ts. It runs in a private mount namespace where a fake gpio class tree
// (plain files in a temp dir) is bound at /sys/class/gpio, drives the real onoff through
// openGpioChip("pi"), and prints what happened as one JSON line for the parent to check.
//
// The kernel's export/unexport behaviour comes from fakeGpioKernel.ts; direction and active_low
// keep the text onoff wrote, which the parent checks.
import fs from "node:fs";
import path from "node:path";
import { openGpioChip } from "../../../drivers/gpio/index.ts";
import { listSysfsChips } from "../../../drivers/gpio/sysfsMap.ts";
import { installFakeGpioKernel, snapshotGpio, type KernelEvent } from "./fakeGpioKernel.ts";

const ROOT = "/sys/class/gpio";

export type { KernelEvent };

export interface ChildReport {
  info: unknown;
  events: KernelEvent[];
  snapshots: Record<string, Record<string, string>>;
  results: Record<string, unknown>;
}

const chips = await listSysfsChips(ROOT);
const { events } = installFakeGpioKernel(ROOT, chips, { lineState: false });
const snapshot = (n: number) => snapshotGpio(ROOT, n);

const message = (err: unknown) => (err instanceof Error ? err.message : String(err));
async function outcome(p: Promise<unknown>): Promise<unknown> {
  try {
    return { ok: await p };
  } catch (err) {
    return { error: message(err) };
  }
}

const results: Record<string, unknown> = {};
const snapshots: Record<string, Record<string, string>> = {};
const chip = await openGpioChip("pi");
const base = chip.info.base;

// An active-low relay on BCM 17, opened "off": the line must be driven high in the same step.
const relay = await chip.open({ pin: 17, direction: "out", activeLow: true });
snapshots.relayOpened = snapshot(base + 17);
await relay.write(1);
snapshots.relayWritten = snapshot(base + 17);
results.relayRead = await relay.read();

// A button on BCM 4: rising edge wanted, 10 ms debounce; the kernel edge is "both" (see onoffChip).
const button = await chip.open({ pin: 4, direction: "in", edge: "rising", debounceMs: 10 });
snapshots.buttonOpened = snapshot(base + 4);
fs.writeFileSync(path.join(ROOT, `gpio${base + 4}`, "value"), "1\n");
results.buttonRead = await button.read();
try {
  button.watch(() => {});
  results.watch = "started";
} catch (err) {
  results.watch = message(err);
}

results.openTwice = await outcome(chip.open({ pin: 17, direction: "in" }));

// BCM 18 left exported by a previous run that crashed: onoff reuses it without writing export.
const leftover = await chip.open({ pin: 18, direction: "out", initial: 1 });
snapshots.leftoverOpened = snapshot(base + 18);

await relay.close();
await relay.close();
results.readAfterClose = await outcome(relay.read());
await chip.close();
results.leftoverAfterChipClose = await outcome(leftover.read());
results.dirsLeft = fs.readdirSync(ROOT).filter((n) => /^gpio\d+$/.test(n));

// A configured base of 0 on a 6.6+ kernel: the kernel refuses the plain BCM number.
const wrong = await openGpioChip("pi", { base: 0 });
results.wrongBase = await outcome(wrong.open({ pin: 17, direction: "out" }));
await wrong.close();

const report: ChildReport = { info: chip.info, events, snapshots, results };
process.stdout.write(`${JSON.stringify(report)}\n`);
// onoff's epoll addon may keep native state around; the report is out, so end here.
process.exit(0);
