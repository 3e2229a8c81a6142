// The GpioChip contract over the real onoff on a real kernel: gpio-sim lines standing in for a Pi 4
// header (pinctrl-bcm2711 at its real base), so the watch() tests that the fake sysfs cannot run
// (epoll needs a real sysfs attribute) run here with real edge interrupts. Run as root inside the
// virtual Pi by scripts/vm/guest/gpioContract.ts, under `node --import tsx --test`, with
// GPIO_SIM_DIR naming the bank's sim directory (/sys/devices/platform/gpio-sim.N/gpiochipM).
// The outside world is gpio-sim itself: a button is a line's `pull`, a meter on an output is the
// line's sim `value` (Documentation/admin-guide/gpio/gpio-sim.rst).
// Real edges come through onoff's epoll thread on a later turn of the event loop, so settle()
// waits for them: onoff reads the value file once per interrupt (to clear it, or to report it;
// onoff.js configureInterruptHandler), and a subclass of onoff's own Gpio counts those reads.
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import {
  loadOnoff,
  OnoffGpioChip,
  type OnoffGpio,
  type OnoffGpioConstructor,
} from "../../../drivers/gpio/onoffChip.ts";
import { findBcmMapping } from "../../../drivers/gpio/sysfsMap.ts";
import type { BinaryValue } from "../../../drivers/gpio/types.ts";
import { describeGpioContract } from "./contract.ts";

const SIM_DIR = process.env["GPIO_SIM_DIR"];
if (!SIM_DIR) throw new Error("GPIO_SIM_DIR is not set: this suite runs inside the virtual Pi (npm run test:vm)");
/** How long an edge may take from the pull write to onoff's read (an emulated CPU, a shared host). */
const EDGE_BOUND_MS = 20_000;
/** Captured before the suite mocks setTimeout: the wait for a real interrupt runs on real time. */
const realSetTimeout = globalThis.setTimeout;
const realClearTimeout = globalThis.clearTimeout;

const loaded = await loadOnoff();
if (!loaded.ok) throw new Error(loaded.reason);
const OnoffGpioClass: OnoffGpioConstructor = loaded.Gpio;
const mapping = await findBcmMapping();

interface Observed {
  sysfs: number;
  reads: number;
  watched: boolean;
  onRead: Array<() => void>;
}
const observed = new WeakMap<OnoffGpio, Observed>();
/** The onoff Gpio currently open per sysfs number. */
const open = new Map<number, OnoffGpio>();

/** onoff's Gpio, unchanged, with its value reads and its watch state counted. */
class ObservedGpio extends OnoffGpioClass {
  constructor(...args: ConstructorParameters<OnoffGpioConstructor>) {
    super(...args);
    observed.set(this, { sysfs: args[0], reads: 0, watched: false, onRead: [] });
    open.set(args[0], this);
  }
  override readSync(): number {
    const value = super.readSync();
    const o = observed.get(this); // undefined while onoff's constructor runs
    if (o) {
      o.reads += 1;
      for (const cb of o.onRead.splice(0)) cb();
    }
    return value;
  }
  override watch(cb: Parameters<OnoffGpio["watch"]>[0]): void {
    super.watch(cb);
    const o = observed.get(this);
    if (o) o.watched = true;
  }
  override unwatch(cb?: Parameters<OnoffGpio["unwatch"]>[0]): void {
    super.unwatch(cb);
    const o = observed.get(this);
    if (o) o.watched = false;
  }
  override unexport(): void {
    const o = observed.get(this);
    if (o) {
      o.watched = false;
      if (open.get(o.sysfs) === this) open.delete(o.sysfs);
    }
    super.unexport();
  }
}

const simFile = (line: number, name: "value" | "pull"): string => join(SIM_DIR, `sim_gpio${line}`, name);
const simLevel = (line: number): BinaryValue => (readFileSync(simFile(line, "value"), "utf8").trim() === "1" ? 1 : 0);
const kernelEdge = (sysfs: number): string => {
  try {
    return readFileSync(`/sys/class/gpio/gpio${sysfs}/edge`, "utf8").trim();
  } catch {
    return "none";
  }
};

/** The interrupts a pull change made, not yet seen by onoff. */
let pending: Array<Promise<void>> = [];

function waitForRead(pin: number, o: Observed): Promise<void> {
  const target = o.reads + 1;
  return new Promise((resolve, reject) => {
    const timer = realSetTimeout(
      () => reject(new Error(`GPIO ${pin}: no interrupt reached onoff within ${EDGE_BOUND_MS} ms of the pull change`)),
      EDGE_BOUND_MS,
    );
    const check = (): void => {
      if (o.reads >= target) {
        realClearTimeout(timer);
        resolve();
      } else o.onRead.push(check);
    };
    o.onRead.push(check);
  });
}

/** A button on the line: pull-up or pull-down, which gpio-sim turns into the line's level and an edge. */
function setInput(pin: number, level: BinaryValue): void {
  const sysfs = mapping.base + pin;
  const gpio = open.get(sysfs);
  const o = gpio ? observed.get(gpio) : undefined;
  // onoff polls only while watched, and the kernel signals only edges its `edge` asks for.
  if (gpio && o?.watched && kernelEdge(sysfs) !== "none" && simLevel(pin) !== level) pending.push(waitForRead(pin, o));
  writeFileSync(simFile(pin, "pull"), level === 1 ? "pull-up" : "pull-down");
}

describeGpioContract("OnoffGpioChip on gpio-sim (real kernel, real epoll)", () => {
  // A fresh board for each test, as the sim starts every test with a new chip: every header line
  // released (the previous test's close() unexported them) and pulled down.
  for (let line = 0; line < 28; line++) writeFileSync(simFile(line, "pull"), "pull-down");
  pending = [];
  const chip = new OnoffGpioChip(ObservedGpio, mapping);
  return {
    chip,
    setInput,
    // The sim's bounce (drivers/gpio/sim.ts): flips `transitions` times `intervalMs` apart on the
    // suite's fake clock, the first now, then the final level.
    bounce: (pin, finalLevel, { transitions, intervalMs }) =>
      new Promise<void>((resolve) => {
        let left = transitions;
        const step = (): void => {
          if (left === 0) {
            setInput(pin, finalLevel);
            resolve();
            return;
          }
          left -= 1;
          setInput(pin, simLevel(pin) === 1 ? 0 : 1);
          setTimeout(step, intervalMs);
        };
        step();
      }),
    level: simLevel,
    settle: async () => {
      const waits = pending;
      pending = [];
      await Promise.all(waits);
    },
  };
});
