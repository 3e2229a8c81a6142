// Child of onoffChip.test.ts. It runs in a private mount namespace where a fake gpio class tree
// (plain files in a temp dir) is bound at /sys/class/gpio, drives the real onoff through
// openGpioChip("pi"), and prints what happened as one JSON line for the parent to check.
//
// The fake tree needs one piece of kernel behaviour plain files lack: writing N to `export`
// creates gpioN/ before write() returns (and `unexport` removes it); onoff relies on that and
// busy-waits synchronously for the files, so nothing asynchronous could create them in time.
// That behaviour is emulated by wrapping fs.writeFileSync for exactly those two paths, the way
// gpiolib-sysfs export_store/unexport_store act, including EINVAL for numbers no chip owns
// (what users hit on kernel 6.6 with plain BCM numbers, fivdi/onoff#200).
//
// Not testable here: edge interrupts. onoff watches the value file with epoll(EPOLLPRI), which
// only sysfs attributes support; on a plain file epoll_ctl fails (EPERM). Edge reporting is
// covered by the shared EdgeReporter through the sim contract suite, and on hardware by hand.
import fs from "node:fs";
import path from "node:path";
import { openGpioChip } from "../../../drivers/gpio/index.ts";
import { listSysfsChips } from "../../../drivers/gpio/sysfsMap.ts";

const ROOT = "/sys/class/gpio";

export interface KernelEvent {
  op: "export" | "unexport";
  n: number;
  /** gpioN attribute files at unexport time. */
  files?: Record<string, string>;
}

export interface ChildReport {
  info: unknown;
  events: KernelEvent[];
  snapshots: Record<string, Record<string, string>>;
  results: Record<string, unknown>;
}

const chips = await listSysfsChips(ROOT);
const events: KernelEvent[] = [];

function errno(code: string, syscall: string): NodeJS.ErrnoException {
  const err: NodeJS.ErrnoException = new Error(`${code}: emulated kernel refused, ${syscall}`);
  err.code = code;
  err.syscall = syscall;
  return err;
}

function snapshot(n: number): Record<string, string> {
  const dir = path.join(ROOT, `gpio${n}`);
  const out: Record<string, string> = {};
  for (const name of fs.readdirSync(dir).sort()) out[name] = fs.readFileSync(path.join(dir, name), "utf8").trim();
  return out;
}

function kernelWrite(file: string, data: unknown): boolean {
  if (file !== `${ROOT}/export` && file !== `${ROOT}/unexport`) return false;
  const n = Number(String(data).trim());
  const dir = path.join(ROOT, `gpio${n}`);
  if (file.endsWith("/export")) {
    if (!chips.some((c) => n >= c.base && n < c.base + c.ngpio)) throw errno("EINVAL", "write");
    if (fs.existsSync(dir)) throw errno("EBUSY", "write");
    fs.mkdirSync(dir);
    for (const [name, value] of Object.entries({ direction: "in", value: "0", active_low: "0", edge: "none" })) {
      fs.writeFileSync(path.join(dir, name), `${value}\n`);
    }
    events.push({ op: "export", n });
  } else {
    if (!fs.existsSync(dir)) throw errno("EINVAL", "write");
    events.push({ op: "unexport", n, files: snapshot(n) });
    fs.rmSync(dir, { recursive: true });
  }
  return true;
}

const originalWriteFileSync = fs.writeFileSync;
const patched = (...args: Parameters<typeof fs.writeFileSync>): void => {
  const [file, data] = args;
  if (typeof file === "string" && kernelWrite(file, data)) return;
  originalWriteFileSync(...args);
};
// onoff require()s the same fs object, so it sees the emulated export/unexport.
Object.defineProperty(fs, "writeFileSync", { value: patched, writable: true, configurable: true });

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
