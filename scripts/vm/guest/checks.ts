// The virtual Pi's test, run inside the VM by vm-checks.service as root: sets up gpio-sim and
// i2c-stub, runs the ThingsBoard emulator on loopback, installs the appliance with
// scripts/install.sh and checks what only a real kernel and a real systemd can show.
// Bundled by scripts/vm/run.sh (esbuild) into one file for the VM's node. The checks run in this
// order, each file one area: the kernel stand-ins and the GPIO contract suite on them (here, before
// anything holds the lines), then serviceChecks.ts, resilienceChecks.ts, lifecycleChecks.ts
// (upgrade), otaChecks.ts, and lifecycleChecks.ts (uninstall) last.
import { existsSync } from "node:fs";
import { startEmulator } from "../../emulator/index.ts";
import * as app from "./appliance.ts";
import { ADS1115_ADDRESS } from "./ads1115Image.ts";
import { bme280RegisterImage } from "./bme280Image.ts";
import { runGpioContract } from "./gpioContract.ts";
import { assert, Checks, note, sh } from "./harness.ts";
import { writeAds1115Image } from "./i2cImageChecks.ts";
import * as k from "./kernelSims.ts";
import { uninstallCheck, upgradeChecks } from "./lifecycleChecks.ts";
import { otaChecks } from "./otaChecks.ts";
import { resilienceChecks } from "./resilienceChecks.ts";
import { SEED, SRC, type Rig } from "./rig.ts";
import { serviceChecks } from "./serviceChecks.ts";

const BME280_ADDR = 0x76;

async function main(): Promise<number> {
  const checks = new Checks();
  const t0 = performance.now();
  const { out: kernel } = await sh("uname", ["-r"]);
  note(
    `kernel ${kernel.trim()}, node ${process.version}, systemd ${(await sh("systemctl", ["--version"])).out.split("\n")[0]}`,
  );

  let sim: k.SimGpio = { base: 512, label: "(none)", simDir: "/nonexistent" };
  let bus = 1;
  const SIM = "gpio-sim bank labelled pinctrl-bcm2711 appears as a Pi 4's header";
  await checks.run(SIM, async () => {
    sim = await k.createGpioSim("pinctrl-bcm2711", 58);
    await k.startGpioTrace();
    return `gpiochip${sim.base} "${sim.label}" base ${sim.base}, 58 lines (${sim.simDir})`;
  });
  const STUB = "i2c-stub carries the BME280 and ADS1115 register images";
  await checks.run(STUB, async () => {
    bus = await k.loadI2cStub([BME280_ADDR, ADS1115_ADDRESS]);
    const image = bme280RegisterImage();
    await k.writeI2cImage(bus, BME280_ADDR, image);
    const id = await k.readI2cByte(bus, BME280_ADDR, 0xd0);
    assert(id === 0x60, `chip id reads back 0x${id.toString(16)}`);
    const ads = await writeAds1115Image(bus);
    return `/dev/i2c-${bus}, BME280 at 0x76, ${image.size} registers written with i2cset, chip id 0x60 reads back; ${ads}`;
  });
  await checks.run(
    "GpioChip contract suite over onoff on gpio-sim (real sysfs and epoll), watch() tests included",
    () => runGpioContract(SRC, SEED, sim),
    [SIM],
  );

  const emu = await startEmulator({
    host: "127.0.0.1",
    mqttPort: app.MQTT_PORT,
    // REST for the OTA checks: packages are created, uploaded and assigned as an operator does.
    httpPort: 0,
    gateways: [app.GATEWAY],
  });
  const rig: Rig = { checks, emu, sim, bus, lastStop: 0, lastKill: 0, confHash: "" };
  await serviceChecks(rig, { sim: SIM, stub: STUB });
  await resilienceChecks(rig);
  await upgradeChecks(rig);
  await otaChecks(rig);
  await uninstallCheck(rig);

  await emu.stop();
  note(`checks took ${((performance.now() - t0) / 1000).toFixed(0)} s inside the VM`);
  return checks.summary();
}

// Only ever inside the VM: it loads kernel modules, creates users and installs a service.
if (!existsSync("/etc/rpi-tb-gateway-vm-test")) {
  console.error("checks.ts runs inside the virtual Pi only (scripts/vm/run.sh, npm run test:vm)");
  process.exit(2);
}
main().then(
  (failed) => process.exit(failed ? 1 : 0),
  (err: unknown) => {
    note(`setup failed: ${(err as Error).stack ?? String(err)}`);
    process.exit(2);
  },
);
