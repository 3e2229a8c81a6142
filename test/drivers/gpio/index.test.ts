import { after, describe, test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { asSimChip, openGpioChip, SimGpioChip } from "../../../drivers/gpio/index.ts";
import { createLogger } from "../../../server/util/logger.ts";
import { BOARDS, makeTempDir, writeGpioClassDir } from "./fakeSysfs.ts";

const tmp = makeTempDir("index");
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

function capture() {
  const lines: Array<{ level: string; msg: string }> = [];
  const log = createLogger("debug", (line) => lines.push(JSON.parse(line) as { level: string; msg: string }));
  return { log, lines };
}

describe("openGpioChip", () => {
  test("sim gives a SimGpioChip and says so", async () => {
    const { log, lines } = capture();
    const chip = await openGpioChip("sim", { log });
    assert.ok(chip instanceof SimGpioChip);
    assert.deepEqual(chip.info, { kind: "sim", label: "sim", base: 0 });
    assert.equal(asSimChip(chip), chip);
    assert.ok(lines.some((l) => l.level === "info" && l.msg === "GPIO: using the simulated chip (hardware: sim)"));
    await chip.close();
  });

  test("auto without sysfs GPIO falls back to the sim and says why", async () => {
    const { log, lines } = capture();
    const root = path.join(tmp, "no-such-dir");
    const chip = await openGpioChip("auto", { sysfsRoot: root, log });
    assert.equal(chip.info.kind, "sim");
    assert.ok(lines.some((l) => l.msg === `GPIO: no ${root}, using the simulated chip`));
  });

  test("auto with sysfs but no known chip falls back to the sim with a warning naming the chips", async () => {
    const { log, lines } = capture();
    const root = writeGpioClassDir(path.join(tmp, "unknown"), [{ label: "gpio-mockup-A", base: 496, ngpio: 16 }]);
    const chip = await openGpioChip("auto", { sysfsRoot: root, log });
    assert.equal(chip.info.kind, "sim");
    const warn = lines.find((l) => l.level === "warn");
    assert.ok(warn, "a warning is logged");
    assert.match(warn.msg, /real chip unusable, using the simulated chip: No Raspberry Pi GPIO chip .*gpio-mockup-A/);
  });

  test("pi rejects with the mapping error instead of falling back", async () => {
    const root = writeGpioClassDir(path.join(tmp, "empty"), []);
    await assert.rejects(openGpioChip("pi", { sysfsRoot: root }), { name: "GpioChipNotFoundError" });
  });

  test(
    "pi with a known chip but no writable /sys/class/gpio/export rejects with the reason",
    { skip: fs.existsSync("/sys/class/gpio/export") && "this machine has real sysfs GPIO" },
    async () => {
      const root = writeGpioClassDir(path.join(tmp, "pi4"), BOARDS.pi4Kernel66);
      await assert.rejects(openGpioChip("pi", { sysfsRoot: root }), {
        message: "Cannot write /sys/class/gpio/export: run as root or add the service user to the gpio group",
      });
    },
  );

  test("an unknown kind rejects", async () => {
    await assert.rejects(openGpioChip("usb" as "sim"), {
      message: 'Invalid GPIO chip kind usb: expected "sim", "pi" or "auto"',
    });
  });
});
