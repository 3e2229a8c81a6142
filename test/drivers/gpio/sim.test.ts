import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { SimGpioChip } from "../../../drivers/gpio/sim.ts";
import type { BinaryValue } from "../../../drivers/gpio/types.ts";
import { describeGpioContract } from "./contract.ts";

describeGpioContract("SimGpioChip", () => {
  const chip = new SimGpioChip();
  return {
    chip,
    setInput: (pin, level) => chip.setInput(pin, level),
    bounce: (pin, level, opts) => chip.bounce(pin, level, opts),
    level: (pin) => chip.level(pin),
  };
});

describe("SimGpioChip outside-world controls", () => {
  test("change listener sees output levels (initial and writes), and off() stops it", async () => {
    const chip = new SimGpioChip();
    const changes: Array<[number, BinaryValue]> = [];
    const listener = (pin: number, level: BinaryValue) => changes.push([pin, level]);
    chip.on("change", listener);
    const relay = await chip.open({ pin: 27, direction: "out", activeLow: true });
    await relay.write(1);
    await relay.write(1);
    chip.off("change", listener);
    await relay.write(0);
    assert.deepEqual(changes, [
      [27, 1],
      [27, 0],
    ]);
    await chip.close();
  });

  test("setInput and bounce refuse a pin open as an output, and bad arguments", async () => {
    const chip = new SimGpioChip();
    await chip.open({ pin: 17, direction: "out" });
    assert.throws(() => chip.setInput(17, 1), {
      message: "GPIO 17 is open as an output; setInput() drives inputs only",
    });
    assert.throws(() => chip.bounce(17, 1, { transitions: 3, intervalMs: 1 }), {
      message: "GPIO 17 is open as an output; bounce() drives inputs only",
    });
    assert.throws(() => chip.setInput(40, 1), { message: "Invalid GPIO pin 40: expected a BCM number 0-27" });
    assert.throws(() => chip.setInput(4, 3 as BinaryValue), { message: "Invalid value 3 for GPIO 4: expected 0 or 1" });
    assert.throws(() => chip.bounce(4, 1, { transitions: -1, intervalMs: 1 }), {
      message: "Invalid transitions -1: expected an integer 0-1000",
    });
    assert.throws(() => chip.bounce(4, 1, { transitions: 2, intervalMs: Number.NaN }), {
      message: "Invalid intervalMs NaN: expected a number >= 0",
    });
    assert.equal(chip.level(17), 0);
    await chip.close();
  });

  test("setInput works on pins nobody opened, and the level is there when they do", async () => {
    const chip = new SimGpioChip();
    chip.setInput(5, 1);
    const pin = await chip.open({ pin: 5, direction: "in" });
    assert.equal(await pin.read(), 1);
    await chip.close();
  });

  test("chip close settles a bounce in flight", async () => {
    const chip = new SimGpioChip();
    const done = chip.bounce(6, 1, { transitions: 10, intervalMs: 60_000 });
    await chip.close();
    await done; // would hang for ten minutes of real time if close did not cancel it
    assert.equal(chip.level(6), 1, "first flip applied before close");
  });
});
