// The glue between onoff's interrupt callbacks and EdgeReporter, which the namespace test cannot
// reach (epoll needs real sysfs). A small stand-in for onoff's Gpio, typed by the OnoffGpio
// interface the adapter declares, lets the test fire interrupts as epoll would deliver them.
import { afterEach, beforeEach, describe, mock, test } from "node:test";
import assert from "node:assert/strict";
import { OnoffGpioChip, explainOpenError, type OnoffGpio } from "../../../drivers/gpio/onoffChip.ts";
import type { BinaryValue } from "../../../drivers/gpio/types.ts";
import { createLogger } from "../../../server/util/logger.ts";

type Cb = (err: Error | null | undefined, value: number) => void;

class InterruptingGpio implements OnoffGpio {
  static made: InterruptingGpio[] = [];
  static readonly accessible = true;
  value = 0;
  listeners: Cb[] = [];
  unexported = false;
  reads = 0;
  readonly args: unknown[];

  constructor(...args: unknown[]) {
    this.args = args;
    InterruptingGpio.made.push(this);
  }
  readSync(): number {
    // onoff reads through a value fd that unexport() closes.
    if (this.unexported) throw Object.assign(new Error("EBADF: bad file descriptor, read"), { code: "EBADF" });
    this.reads += 1;
    return this.value;
  }
  read(): Promise<number> {
    return Promise.resolve(this.value);
  }
  write(value: BinaryValue): Promise<void> {
    this.value = value;
    return Promise.resolve();
  }
  watch(cb: Cb): void {
    this.listeners.push(cb);
  }
  unwatch(cb?: Cb): void {
    this.listeners = cb ? this.listeners.filter((l) => l !== cb) : [];
  }
  unexport(): void {
    this.unwatch();
    this.unexported = true;
  }
  /** What onoff does when epoll reports the value file changed (debounceTimeout 0: at once). */
  interrupt(value: number, err: Error | null = null): void {
    this.value = value;
    for (const l of Array.from(this.listeners)) l(err, value);
  }
}

const MAPPING = { label: "pinctrl-bcm2711", base: 512, ngpio: 58, source: "sysfs" as const };
const T0 = 1_700_000_000_000;

describe("OnoffGpioChip watch and open glue", () => {
  let warnings: string[];
  let chip: OnoffGpioChip;
  beforeEach(() => {
    mock.timers.enable({ apis: ["setTimeout", "Date"], now: T0 });
    InterruptingGpio.made = [];
    warnings = [];
    const log = createLogger("warn", (line) => warnings.push((JSON.parse(line) as { msg: string }).msg));
    chip = new OnoffGpioChip(InterruptingGpio, MAPPING, log);
  });
  afterEach(async () => {
    await chip.close();
    mock.timers.reset();
  });

  test("constructs onoff pins with sysfs numbers, glitch-free output levels and kernel edge both", async () => {
    await chip.open({ pin: 17, direction: "out", activeLow: true });
    await chip.open({ pin: 18, direction: "out", initial: 1 });
    await chip.open({ pin: 4, direction: "in", edge: "falling", debounceMs: 25, activeLow: true });
    await chip.open({ pin: 5, direction: "in", edge: "none" });
    assert.deepEqual(
      InterruptingGpio.made.map((g) => g.args),
      [
        [529, "high", undefined, { activeLow: true, debounceTimeout: 0, reconfigureDirection: true }],
        [530, "high", undefined, { activeLow: false, debounceTimeout: 0, reconfigureDirection: true }],
        // The adapter debounces (cancellable on close); onoff's lodash.debounce could not be stopped.
        [516, "in", "both", { activeLow: true, debounceTimeout: 0, reconfigureDirection: true }],
        [517, "in", "none", { activeLow: false, debounceTimeout: 0, reconfigureDirection: true }],
      ],
    );
  });

  test("reports changes from the level at watch start, filtered by edge, without repeats", async () => {
    const pin = await chip.open({ pin: 4, direction: "in", edge: "rising" });
    const g = InterruptingGpio.made[0]!;
    g.value = 1; // already high when watching starts: no report for it
    const seen: Array<[BinaryValue, number]> = [];
    pin.watch((v, ts) => seen.push([v, ts]));
    g.interrupt(1);
    g.interrupt(0); // falling: filtered
    mock.timers.tick(5);
    g.interrupt(1);
    g.interrupt(1); // second interrupt with no change: dropped
    assert.deepEqual(seen, [[1, T0 + 5]]);
  });

  test("the last unwatch stops onoff watching; a new watch resyncs to the current level", async () => {
    const pin = await chip.open({ pin: 6, direction: "in" });
    const g = InterruptingGpio.made[0]!;
    const seen: BinaryValue[] = [];
    const stop = pin.watch((v) => seen.push(v));
    assert.equal(g.listeners.length, 1);
    stop();
    stop();
    assert.equal(g.listeners.length, 0);
    g.value = 1; // changed while nobody watched
    pin.watch((v) => seen.push(v));
    g.interrupt(1);
    g.interrupt(0);
    assert.deepEqual(seen, [0]);
  });

  test("an interrupt error is logged, not reported; nothing is delivered after close", async () => {
    const pin = await chip.open({ pin: 7, direction: "in" });
    const g = InterruptingGpio.made[0]!;
    const seen: BinaryValue[] = [];
    pin.watch((v) => seen.push(v));
    g.interrupt(1, new Error("EIO"));
    assert.deepEqual(seen, []);
    assert.deepEqual(warnings, ["GPIO 7 interrupt error"]);
    const callbacks = [...g.listeners];
    await pin.close();
    assert.equal(g.unexported, true);
    for (const cb of callbacks) cb(null, 0); // a late epoll event racing the close
    assert.deepEqual(seen, []);
  });

  test("debounce: the level is read once it held debounceMs; a pending one is dropped at close", async () => {
    const pin = await chip.open({ pin: 8, direction: "in", debounceMs: 20 });
    const g = InterruptingGpio.made[0]!;
    const seen: Array<[BinaryValue, number]> = [];
    pin.watch((v, ts) => seen.push([v, ts]));
    g.interrupt(1);
    mock.timers.tick(10);
    g.interrupt(1); // bounce: the quiet period starts again
    mock.timers.tick(19);
    assert.deepEqual(seen, []);
    mock.timers.tick(1);
    assert.deepEqual(seen, [[1, T0 + 30]]);
    g.interrupt(0);
    const reads = g.reads;
    await pin.close(); // within the debounce: onoff's own timer would have read the closed fd
    mock.timers.tick(100);
    assert.equal(g.reads, reads, "no read after close");
    assert.deepEqual(seen, [[1, T0 + 30]]);
    assert.deepEqual(warnings, []);
  });

  test("pins beyond the chip and kernel refusals are explained", async () => {
    const small = new OnoffGpioChip(InterruptingGpio, { ...MAPPING, ngpio: 8 });
    await assert.rejects(small.open({ pin: 9, direction: "in" }), {
      message: "Cannot open GPIO 9: chip pinctrl-bcm2711 has only 8 lines",
    });
    const busy = Object.assign(new Error("EBUSY: resource busy or locked, write"), { code: "EBUSY" });
    assert.equal(
      explainOpenError(4, 516, busy).message,
      "Cannot open GPIO 4 (sysfs 516): the pin is claimed by a kernel driver (1-wire, I2C, SPI, LED overlays) or another program [EBUSY]",
    );
  });
});
