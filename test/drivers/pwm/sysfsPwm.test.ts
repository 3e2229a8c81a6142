// The sysfs PWM driver on the PWM twin: the header chip found by its platform device on a Pi 4
// and a Pi 5 (different chip numbers and channel maps), duty never written above the period,
// the channel rules, and what happens without the overlay.
import { afterEach, test } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { openSysfsPwm } from "../../../drivers/pwm/sysfsPwm.ts";
import { listPwmChips, pickHeaderPwm } from "../../../drivers/pwm/pwmMap.ts";
import { SimSysfs } from "../../../drivers/sysfs/simSysfs.ts";
import { TwinSysfsIo, removeTree } from "../../../drivers/sysfs/twinIo.ts";
import { tempDir } from "../../fakes/tempDir.ts";

let sim: SimSysfs | null = null;
afterEach(async () => {
  await sim?.remove();
  sim = null;
});

test("Pi 4: fe20c000.pwm is pwmchip0; GPIO 18 is channel 0 and GPIO 19 channel 1", async () => {
  sim = await SimSysfs.create({ board: "pi4" });
  const pwm = await openSysfsPwm(sim.io, sim.pwmClass);
  assert.match(pwm.description, /^pwmchip0 \(fe20c000\.pwm, 2 channels/);
  assert.deepEqual(pwm.pins, [12, 13, 18, 19]);
  const a = await pwm.open(18);
  const b = await pwm.open(19);
  assert.deepEqual([a.channel, b.channel], [0, 1]);
  await a.set(1e6, 4e5); // 1 kHz, 40 %
  await a.enable(true);
  assert.deepEqual(sim.pwm.channel(0), { periodNs: 1_000_000, dutyNs: 400_000, enabled: true });
  // GPIO 12 is the same channel as GPIO 18 on the BCM PWM: refused with the reason.
  await assert.rejects(pwm.open(12), /GPIO 12 and GPIO 18 are the same PWM channel 0/);
  await assert.rejects(pwm.open(17), /GPIO 17 has no hardware PWM channel/);
  await pwm.close();
  assert.equal(sim.pwm.channel(0), undefined, "closed channels are unexported");
});

test("Pi 5: the RP1's 1f00098000.pwm is found as pwmchip2 behind another chip; GPIO 18 is channel 2", async () => {
  sim = await SimSysfs.create({ board: "pi5" });
  const chips = await listPwmChips(sim.io, sim.pwmClass);
  assert.deepEqual(
    chips.map((c) => [c.name, c.device, c.npwm]),
    [
      ["pwmchip0", "107d517a80.pwm", 2],
      ["pwmchip2", "1f00098000.pwm", 4],
    ],
  );
  assert.equal(pickHeaderPwm(chips)?.chip.name, "pwmchip2");
  const pwm = await openSysfsPwm(sim.io, sim.pwmClass);
  const out12 = await pwm.open(12);
  const out18 = await pwm.open(18);
  assert.deepEqual([out12.channel, out18.channel], [0, 2], "12 and 18 are separate channels on RP1");
  await out18.set(20_000_000, 1_500_000); // servo: 50 Hz, 1.5 ms
  await out18.enable(true);
  assert.deepEqual(sim.pwm.channel(2), { periodNs: 20_000_000, dutyNs: 1_500_000, enabled: true });
  await pwm.close();
});

test("duty never goes above the period while both change (the kernel's EINVAL)", async () => {
  sim = await SimSysfs.create();
  const pwm = await openSysfsPwm(sim.io, sim.pwmClass);
  const out = await pwm.open(18);
  await out.set(1_000_000, 900_000); // 1 kHz 90 %
  await out.set(40_000, 20_000); // to 25 kHz 50 %: duty first, then the shorter period
  assert.deepEqual(sim.pwm.channel(0), { periodNs: 40_000, dutyNs: 20_000, enabled: false });
  await out.set(20_000_000, 2_000_000); // to 50 Hz: period first
  assert.deepEqual(sim.pwm.channel(0), { periodNs: 20_000_000, dutyNs: 2_000_000, enabled: false });
  await out.set(1000, 5000); // duty above the period is clamped to it
  assert.deepEqual(sim.pwm.channel(0), { periodNs: 1000, dutyNs: 1000, enabled: false });
  await pwm.close();
});

test("a channel left exported by a killed run (EBUSY) is taken over", async () => {
  sim = await SimSysfs.create();
  await sim.io.writeFile(join(sim.pwmClass, "pwmchip0", "export"), "0");
  const pwm = await openSysfsPwm(sim.io, sim.pwmClass);
  const out = await pwm.open(18);
  await out.set(1e6, 5e5);
  assert.equal(sim.pwm.channel(0)?.dutyNs, 500_000);
  await pwm.close();
});

test("without the overlay there is no header chip: the error names the overlay line", async () => {
  const empty = tempDir("rpi-tb-pwm-");
  try {
    await assert.rejects(openSysfsPwm(new TwinSysfsIo(), empty), /dtoverlay=pwm-2chan/);
  } finally {
    await removeTree(empty);
  }
});
