import { after, describe, test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import {
  GpioChipNotFoundError,
  bcmToSysfs,
  findBcmMapping,
  listSysfsChips,
  pickBcmChip,
} from "../../../drivers/gpio/sysfsMap.ts";
import { BOARDS, makeTempDir, writeGpioClassDir, type FakeChip } from "./fakeSysfs.ts";

const tmp = makeTempDir("map");
after(() => fs.rmSync(tmp, { recursive: true, force: true }));
let n = 0;
const tree = (chips: readonly FakeChip[]) => writeGpioClassDir(path.join(tmp, `t${n++}`), chips);

describe("sysfs BCM mapping", () => {
  test("old kernel: pinctrl-bcm2835 at base 0, BCM 17 is sysfs 17", async () => {
    const m = await findBcmMapping({ root: tree(BOARDS.oldKernel) });
    assert.deepEqual(m, { label: "pinctrl-bcm2835", base: 0, ngpio: 54, source: "sysfs" });
    assert.equal(bcmToSysfs(17, m.base), 17);
  });

  test("Pi 4 on kernel 6.6: picks pinctrl-bcm2711 at 512 over the firmware expander", async () => {
    const m = await findBcmMapping({ root: tree(BOARDS.pi4Kernel66) });
    assert.deepEqual(m, { label: "pinctrl-bcm2711", base: 512, ngpio: 58, source: "sysfs" });
    assert.equal(bcmToSysfs(17, m.base), 529);
  });

  test("Pi 5: picks pinctrl-rp1 at 571 although other chips come first", async () => {
    const m = await findBcmMapping({ root: tree(BOARDS.pi5) });
    assert.equal(m.label, "pinctrl-rp1");
    assert.equal(m.base, 571);
    assert.equal(bcmToSysfs(17, m.base), 588);
  });

  test("rp1 wins over bcm2712 when both are present", () => {
    const chips = [
      { name: "gpiochip512", label: "pinctrl-bcm2712", base: 512, ngpio: 32 },
      { name: "gpiochip571", label: "pinctrl-rp1", base: 571, ngpio: 54 },
    ];
    assert.equal(pickBcmChip(chips)?.base, 571);
  });

  test("no known chip: a clear error naming what was found", async () => {
    const root = tree([{ label: "gpio-mockup-A", base: 496, ngpio: 16 }]);
    await assert.rejects(findBcmMapping({ root }), (err: unknown) => {
      assert.ok(err instanceof GpioChipNotFoundError);
      assert.equal(
        err.message,
        `No Raspberry Pi GPIO chip in ${root}: found gpiochip496 "gpio-mockup-A" (base 496, 16 lines); ` +
          "expected a label pinctrl-rp1, pinctrl-bcm2712, pinctrl-bcm2711, pinctrl-bcm2835. " +
          "If this board's header is on one of those chips, set its GPIO base in the configuration",
      );
      assert.equal(err.chips.length, 1);
      return true;
    });
  });

  test("an empty class dir and a missing one are both reported", async () => {
    const empty = tree([]);
    await assert.rejects(findBcmMapping({ root: empty }), { message: new RegExp(`found no gpiochip entries`) });
    const missing = path.join(tmp, "absent");
    await assert.rejects(findBcmMapping({ root: missing }), {
      name: "GpioChipNotFoundError",
      message: `No GPIO sysfs interface at ${missing} (ENOENT): the kernel lacks CONFIG_GPIO_SYSFS or this is not a Raspberry Pi`,
    });
  });

  test("a configured base overrides the lookup, naming the chip there if any", async () => {
    const root = tree(BOARDS.pi4Kernel66);
    assert.deepEqual(await findBcmMapping({ root, base: 512 }), {
      label: "pinctrl-bcm2711",
      base: 512,
      ngpio: 58,
      source: "configured",
    });
    assert.deepEqual(await findBcmMapping({ root: path.join(tmp, "absent"), base: 522 }), {
      label: "configured",
      base: 522,
      ngpio: 28,
      source: "configured",
    });
    await assert.rejects(findBcmMapping({ root, base: -1 }), {
      message: "Invalid GPIO base -1: expected an integer >= 0",
    });
  });

  test("malformed chip entries are skipped, not fatal", async () => {
    const root = tree(BOARDS.pi4Kernel66);
    fs.mkdirSync(path.join(root, "gpiochip9"));
    fs.writeFileSync(path.join(root, "gpiochip9", "label"), "pinctrl-bcm2835\n");
    fs.writeFileSync(path.join(root, "gpiochip9", "base"), "nine\n");
    const chips = await listSysfsChips(root);
    assert.deepEqual(
      chips.map((c) => c.name),
      ["gpiochip512", "gpiochip570"],
    );
    assert.equal((await findBcmMapping({ root })).base, 512);
  });

  test("bcmToSysfs validates its arguments", () => {
    assert.equal(bcmToSysfs(0, 571), 571);
    assert.equal(bcmToSysfs(27, 512), 539);
    assert.throws(() => bcmToSysfs(28, 512), { message: "Invalid GPIO pin 28: expected a BCM number 0-27" });
    assert.throws(() => bcmToSysfs(4, 1.5), { message: "Invalid GPIO base 1.5: expected an integer >= 0" });
  });
});
