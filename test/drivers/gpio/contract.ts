// One behaviour suite for every GpioChip (the MQTT.js abstractStoreTest pattern): the sim runs it
// in CI, onoff runs it on a fake sysfs (without the watch() tests) and, in the virtual Pi
// (npm run test:vm), on a real kernel's gpio-sim with real edge interrupts (all of it).
// Time is faked with node:test mock.timers, so debounce checks are exact and instant.
import { afterEach, beforeEach, describe, mock, test } from "node:test";
import assert from "node:assert/strict";
import type { BinaryValue, GpioChip, GpioPinOptions } from "../../../drivers/gpio/types.ts";

/** The chip under test plus the outside world wired to it. */
export interface GpioHarness {
  chip: GpioChip;
  /** Applies an electrical level to a pin, as a button would. */
  setInput(pin: number, level: BinaryValue): void;
  /** Contact bounce ending at finalLevel; resolves once the final level is applied. */
  bounce(pin: number, finalLevel: BinaryValue, opts: { transitions: number; intervalMs: number }): Promise<void>;
  /** Electrical level on a pin. */
  level(pin: number): BinaryValue;
  /**
   * Resolves once the edges applied so far have reached the chip. The sim (and a fake sysfs)
   * deliver them inside setInput(); a real kernel delivers them through epoll, on a later turn
   * of the event loop (onoffGpioSimContract.ts), so the watch() tests wait for this after each
   * change before they look at the reports or move the fake clock on.
   */
  settle?(): Promise<void>;
}

const T0 = 1_700_000_000_000;

type Report = [BinaryValue, number];

/**
 * Advances fake time 1 ms at a time: Node 20's mock.timers.tick(n) moves the clock by n first,
 * so a timer set from inside a timer callback during that tick lands after it and would be skipped.
 */
export function advance(ms: number): void {
  for (let i = 0; i < ms; i++) mock.timers.tick(1);
}

export interface GpioContractOptions {
  /** Why edge interrupts cannot be delivered to this implementation here; its watch() tests are
   *  then registered as skipped with that reason (the fake sysfs: epoll needs a real attribute). */
  noEdgeInterrupts?: string;
}

export function describeGpioContract(
  name: string,
  build: () => GpioHarness | Promise<GpioHarness>,
  options: GpioContractOptions = {},
): void {
  /** A test that needs input edges delivered to watch(). */
  const edgeTest = (title: string, fn: () => Promise<void>): void => {
    test(title, { skip: options.noEdgeInterrupts ?? false }, fn);
  };
  describe(`GpioChip contract: ${name}`, () => {
    let h: GpioHarness;
    beforeEach(async () => {
      mock.timers.enable({ apis: ["setTimeout", "Date"], now: T0 });
      h = await build();
    });
    afterEach(async () => {
      await h.chip.close();
      mock.timers.reset();
    });

    /** setInput, then wait until the chip got the edge (at once on the sim, through epoll on a kernel). */
    const input = async (pin: number, level: BinaryValue): Promise<void> => {
      h.setInput(pin, level);
      await h.settle?.();
    };
    /** advance(), letting the edges made during each 1 ms step (a bounce) reach the chip before the next. */
    const elapse = async (ms: number): Promise<void> => {
      for (let i = 0; i < ms; i++) {
        mock.timers.tick(1);
        await h.settle?.();
      }
    };

    const watchInto = async (opts: Omit<GpioPinOptions, "direction">) => {
      const pin = await h.chip.open({ ...opts, direction: "in" });
      const reports: Report[] = [];
      const stop = pin.watch((value, ts) => reports.push([value, ts]));
      return { pin, reports, stop };
    };

    describe("outputs", () => {
      test("open at 0 by default, write drives the level, read returns it", async () => {
        const out = await h.chip.open({ pin: 17, direction: "out" });
        assert.equal(out.pin, 17);
        assert.equal(out.direction, "out");
        assert.equal(h.level(17), 0);
        await out.write(1);
        assert.equal(h.level(17), 1);
        assert.equal(await out.read(), 1);
        await out.write(0);
        assert.equal(h.level(17), 0);
        assert.equal(await out.read(), 0);
      });

      test("initial 1 drives high from the moment of opening", async () => {
        await h.chip.open({ pin: 18, direction: "out", initial: 1 });
        assert.equal(h.level(18), 1);
      });

      test("active-low inverts both ways: logical 0 drives high, logical 1 drives low", async () => {
        const relay = await h.chip.open({ pin: 27, direction: "out", activeLow: true });
        assert.equal(h.level(27), 1, "an active-low relay opened at logical 0 stays released (line high)");
        assert.equal(await relay.read(), 0);
        await relay.write(1);
        assert.equal(h.level(27), 0);
        assert.equal(await relay.read(), 1);
      });
    });

    describe("inputs", () => {
      test("read returns the applied level; active-low inverts it", async () => {
        const plain = await h.chip.open({ pin: 5, direction: "in" });
        const inverted = await h.chip.open({ pin: 6, direction: "in", activeLow: true });
        h.setInput(5, 1);
        h.setInput(6, 1);
        assert.equal(await plain.read(), 1);
        assert.equal(await inverted.read(), 0);
        h.setInput(5, 0);
        h.setInput(6, 0);
        assert.equal(await plain.read(), 0);
        assert.equal(await inverted.read(), 1);
      });

      edgeTest("edge both reports each change once with its timestamp", async () => {
        const { reports } = await watchInto({ pin: 4 });
        await input(4, 1);
        await elapse(10);
        await input(4, 1); // no change on the wire: nothing to report
        await input(4, 0);
        assert.deepEqual(reports, [
          [1, T0],
          [0, T0 + 10],
        ]);
      });

      edgeTest("edge rising and falling filter; none reports nothing", async () => {
        const rising = await watchInto({ pin: 20, edge: "rising" });
        const falling = await watchInto({ pin: 21, edge: "falling" });
        const none = await watchInto({ pin: 22, edge: "none" });
        for (const level of [1, 0, 1, 0] as const) {
          for (const p of [20, 21, 22]) await input(p, level);
        }
        assert.deepEqual(
          rising.reports.map((r) => r[0]),
          [1, 1],
        );
        assert.deepEqual(
          falling.reports.map((r) => r[0]),
          [0, 0],
        );
        assert.deepEqual(none.reports, []);
      });

      edgeTest("edges are logical: an active-low button pulled low is a rising edge", async () => {
        await input(23, 1); // pulled up, released
        const { reports } = await watchInto({ pin: 23, edge: "rising", activeLow: true });
        await input(23, 0); // pressed
        await input(23, 1); // released: a falling edge, filtered
        assert.deepEqual(reports, [[1, T0]]);
      });

      edgeTest("debounce swallows contact bounce and reports the settled level once", async () => {
        const { reports } = await watchInto({ pin: 12, debounceMs: 20 });
        // Flips at 0,2,4,6,8 ms (ending high), final level applied at 10 ms.
        const done = h.bounce(12, 1, { transitions: 5, intervalMs: 2 });
        await elapse(10);
        await done;
        assert.equal(h.level(12), 1);
        await elapse(17); // 27 ms: last edge at 8 ms has held 19 ms
        assert.deepEqual(reports, []);
        await elapse(1); // 28 ms: held 20 ms
        assert.deepEqual(reports, [[1, T0 + 28]]);
        await elapse(1000);
        assert.equal(reports.length, 1);
      });

      edgeTest("debounce: a level must hold debounceMs; a glitch that returns reports nothing", async () => {
        const { reports } = await watchInto({ pin: 13, debounceMs: 20 });
        await input(13, 1);
        await elapse(19);
        await input(13, 0); // back before it held 20 ms
        await elapse(100);
        assert.deepEqual(reports, []);
        await input(13, 1);
        await elapse(20);
        assert.deepEqual(reports, [[1, T0 + 139]]);
      });

      edgeTest("a throwing callback does not stop the others", async () => {
        const pin = await h.chip.open({ pin: 16, direction: "in" });
        const seen: BinaryValue[] = [];
        pin.watch(() => {
          throw new Error("listener bug");
        });
        pin.watch((v) => seen.push(v));
        await input(16, 1);
        assert.deepEqual(seen, [1]);
      });
    });

    describe("unwatch and close", () => {
      edgeTest("unwatch stops only that callback and may be called twice", async () => {
        const pin = await h.chip.open({ pin: 24, direction: "in" });
        const a: BinaryValue[] = [];
        const b: BinaryValue[] = [];
        const stopA = pin.watch((v) => a.push(v));
        pin.watch((v) => b.push(v));
        await input(24, 1);
        stopA();
        stopA();
        await input(24, 0);
        assert.deepEqual(a, [1]);
        assert.deepEqual(b, [1, 0]);
      });

      edgeTest("close is idempotent, drops a pending debounced report, and frees the pin", async () => {
        const { pin, reports } = await watchInto({ pin: 25, debounceMs: 50 });
        await input(25, 1);
        await pin.close();
        await pin.close();
        await elapse(100);
        assert.deepEqual(reports, []);
        const again = await h.chip.open({ pin: 25, direction: "in" });
        assert.equal(await again.read(), 1);
      });

      test("operations after close reject (read/write) or throw (watch)", async () => {
        const out = await h.chip.open({ pin: 26, direction: "out" });
        const inp = await h.chip.open({ pin: 19, direction: "in" });
        await out.close();
        await inp.close();
        await assert.rejects(out.read(), { message: "GPIO 26 is closed" });
        await assert.rejects(out.write(1), { message: "GPIO 26 is closed" });
        assert.throws(() => inp.watch(() => {}), { message: "GPIO 19 is closed" });
      });

      test("chip close closes its pins and refuses new ones", async () => {
        const out = await h.chip.open({ pin: 9, direction: "out" });
        await h.chip.close();
        await assert.rejects(out.read(), { message: "GPIO 9 is closed" });
        await assert.rejects(h.chip.open({ pin: 10, direction: "in" }), { message: "GPIO chip is closed" });
        await h.chip.close();
      });
    });

    describe("misuse", () => {
      test("write to an input rejects", async () => {
        const inp = await h.chip.open({ pin: 7, direction: "in" });
        await assert.rejects(inp.write(1), { message: "GPIO 7 is an input; write() drives outputs only" });
      });

      test("watch on an output throws", async () => {
        const out = await h.chip.open({ pin: 8, direction: "out" });
        assert.throws(() => out.watch(() => {}), { message: "GPIO 8 is an output; watch() reports inputs only" });
      });

      test("opening a pin twice rejects, and the first stays usable", async () => {
        const first = await h.chip.open({ pin: 11, direction: "out" });
        await assert.rejects(h.chip.open({ pin: 11, direction: "in" }), { message: "GPIO 11 is already open" });
        await first.write(1);
        assert.equal(h.level(11), 1);
      });

      test("bad options and values throw synchronously with exact messages", async () => {
        const open = (o: unknown) => () => h.chip.open(o as GpioPinOptions);
        assert.throws(open({ pin: 28, direction: "in" }), {
          message: "Invalid GPIO pin 28: expected a BCM number 0-27",
        });
        assert.throws(open({ pin: 1.5, direction: "in" }), {
          message: "Invalid GPIO pin 1.5: expected a BCM number 0-27",
        });
        assert.throws(open({ pin: "17", direction: "in" }), {
          message: 'Invalid GPIO pin "17": expected a BCM number 0-27',
        });
        assert.throws(open({ pin: 17, direction: "up" }), {
          message: 'Invalid direction "up" for GPIO 17: expected "in" or "out"',
        });
        assert.throws(open({ pin: 17, direction: "in", edge: "up" }), {
          message: 'Invalid edge "up" for GPIO 17: expected "none", "rising", "falling" or "both"',
        });
        assert.throws(open({ pin: 17, direction: "in", debounceMs: -1 }), {
          message: "Invalid debounceMs -1 for GPIO 17: expected an integer 0-10000",
        });
        assert.throws(open({ pin: 17, direction: "out", initial: 2 }), {
          message: "Invalid initial 2 for GPIO 17: expected 0 or 1",
        });
        assert.throws(open(null), { message: "Invalid GPIO options null: expected an object" });
        const out = await h.chip.open({ pin: 17, direction: "out" });
        assert.throws(() => out.write(2 as BinaryValue), { message: "Invalid value 2 for GPIO 17: expected 0 or 1" });
        assert.equal(h.level(17), 0);
      });
    });
  });
}
