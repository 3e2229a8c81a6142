// The installed appliance on the kernel's GPIO and I2C stand-ins: install.sh for real, the start
// through Type=notify, the BCM mapping, an RPC and an input edge, the BME280 and the ADS1115 on
// i2c-stub, and all of it under the unit's hardening as the service user.
import { readFileSync, statSync, writeFileSync } from "node:fs";
import * as app from "./appliance.ts";
import { expectedReading } from "./bme280Image.ts";
import { ads1115Check } from "./i2cImageChecks.ts";
import { assert, sh, unitProps, waitUntil } from "./harness.ts";
import * as k from "./kernelSims.ts";
import { count, gpioOf, SEED, SRC, TCG, untilTelemetry, type Rig } from "./rig.ts";

export const INSTALLED = "install.sh installs the appliance (real useradd, groups, unit)";
export const STARTED = "service reaches active through Type=notify (READY=1)";
export const MAPPED = "BCM->sysfs mapping finds the gpio-sim chip by label at its real base";
export const EDGE = "input edge made with gpio-sim pull arrives as telemetry (onoff epoll, debounce)";
export const I2C = "i2c-bus reads the BME280 register image on i2c-stub; the emulator gets the values it encodes";

export async function serviceChecks(rig: Rig, needs: { sim: string; stub: string }): Promise<void> {
  const { checks, emu, sim, bus } = rig;
  const gpio = (bcm: number): number => gpioOf(rig, bcm);
  const SIM = needs.sim;
  const STUB = needs.stub;

  await checks.run(INSTALLED, async () => {
    const seeded = await app.seedDependencies(SEED, SRC);
    const r = await app.install(SRC);
    const { out: id } = await sh("id", [app.SERVICE_USER]);
    assert(/\(gpio\)/.test(id) && /\(i2c\)/.test(id), `service user not in gpio and i2c: ${id.trim()}`);
    assert(app.exists(`/etc/systemd/system/${app.UNIT}`), "no unit file in /etc/systemd/system");
    // The config still holds the example's placeholders: the installer leaves the unit disabled
    // and tells the user to edit the config, then `systemctl enable --now` (issue 18).
    const { out: enabled } = await sh("systemctl", ["is-enabled", app.UNIT], { allowFail: true });
    assert(
      app.exists(`${app.APP_DIR}/current/dist/rpi-tb-gateway.mjs`),
      "no server bundle in /opt/rpi-tb-gateway/current/dist",
    );
    assert(
      /Dependencies unchanged/.test(r.out),
      `installer did not reuse the prepared node_modules: ${r.out.slice(-400)}`,
    );
    return `${id.trim()}; unit installed (${enabled.trim()} until the config is edited); ${seeded}`;
  });

  await checks.run(
    "service reaches active through Type=notify (READY=1)",
    async () => {
      writeFileSync(app.CONF, app.configYaml(bus));
      app.emulationDropIn();
      await sh("systemctl", ["daemon-reload"]);
      await sh("chown", [`root:${app.SERVICE_USER}`, app.CONF]);
      await sh("chmod", ["0640", app.CONF]);
      const start = performance.now();
      // What the installer tells the user to run once the config is edited. Type=notify: the start
      // job ends once the service sent READY=1 (or fails).
      await sh("systemctl", ["enable", "--now", app.UNIT]);
      const secs = (performance.now() - start) / 1000;
      const p = await unitProps(app.UNIT, ["Type", "ActiveState", "SubState", "StatusText", "WatchdogUSec"]);
      assert(
        p.Type === "notify" && p.ActiveState === "active" && p.SubState === "running",
        `unit state ${JSON.stringify(p)}`,
      );
      const { out: enabled } = await sh("systemctl", ["is-enabled", app.UNIT], { allowFail: true });
      assert(enabled.trim() === "enabled", `unit is ${enabled.trim()} after enable --now`);
      return `enable --now: Type=notify, active/running after ${secs.toFixed(1)} s, watchdog ${p.WatchdogUSec}${p.StatusText ? `, status "${p.StatusText}"` : ""}`;
    },
    ["install.sh installs the appliance (real useradd, groups, unit)"],
  );

  await checks.run(
    "BCM->sysfs mapping finds the gpio-sim chip by label at its real base",
    async () => {
      const dirs = [app.RELAY1, app.RELAY2, app.DOOR].map((b) => `/sys/class/gpio/gpio${gpio(b)}`);
      await waitUntil("the configured lines exported", 30_000 * TCG, () =>
        dirs.every((d) => app.exists(d)) ? true : undefined,
      );
      const dirOf = (b: number): string => readFileSync(`/sys/class/gpio/gpio${gpio(b)}/direction`, "utf8").trim();
      assert(
        dirOf(app.RELAY1) === "out" && dirOf(app.RELAY2) === "out" && dirOf(app.DOOR) === "in",
        "wrong directions on the exported lines",
      );
      assert(
        !app.exists(`/sys/class/gpio/gpio${app.RELAY1}`),
        `BCM ${app.RELAY1} was exported under its plain number (pre-6.6 numbering)`,
      );
      return `BCM ${app.RELAY1},${app.RELAY2},${app.DOOR} exported as gpio${gpio(app.RELAY1)},${gpio(app.RELAY2)},${gpio(app.DOOR)} on "${sim.label}" base ${sim.base}`;
    },
    [STARTED, SIM],
  );

  await checks.run(
    "toggle_gpio from the emulator changes the gpio-sim line as the kernel sees it",
    async () => {
      await untilTelemetry(emu, app.RELAYS_DEVICE, "relay1", "the first GPIO report", 60_000 * TCG, () => true);
      assert(k.simValue(sim, app.RELAY1) === 0, "relay1 line not at its safe level 0 before the RPC");
      const r1 = await emu.rpc(app.RELAYS_DEVICE, "toggle_gpio", { pin: app.RELAY1 }, { timeoutMs: 30_000 * TCG });
      assert(r1.status === 200, `toggle_gpio answered ${r1.status} ${JSON.stringify(r1.body)}`);
      assert(k.simValue(sim, app.RELAY1) === 1, "relay1 line still low after toggle_gpio");
      // Active low: on means the line goes low.
      assert(k.simValue(sim, app.RELAY2) === 1, "relay2 (active low, off) line not high");
      const r2 = await emu.rpc(app.RELAYS_DEVICE, "toggle_gpio", { pin: app.RELAY2 }, { timeoutMs: 30_000 * TCG });
      assert(
        r2.status === 200 && k.simValue(sim, app.RELAY2) === 0,
        `relay2 (active low) line not low after toggle_gpio on: ${JSON.stringify(r2.body)}`,
      );
      await untilTelemetry(emu, app.RELAYS_DEVICE, "relay1", "relay1=true", 30_000 * TCG, (v) => v === true);
      return `relay1 line 0->1, relay2 (activeLow) line 1->0, replies ${JSON.stringify(r1.body)}; telemetry relay1=true`;
    },
    [MAPPED],
  );

  await checks.run(
    "input edge made with gpio-sim pull arrives as telemetry (onoff epoll, debounce)",
    async () => {
      await untilTelemetry(emu, app.RELAYS_DEVICE, "door", "the door state", 30_000 * TCG, () => true);
      const before = count(emu, app.RELAYS_DEVICE, "door");
      const was = k.simValue(sim, app.DOOR);
      const up = (level: number): "pull-up" | "pull-down" => (level === 1 ? "pull-up" : "pull-down");
      k.clearGpioTrace();
      // A bouncing contact: three changes within microseconds, ending at the new level. With
      // debounceMs the appliance reports the settled level once.
      k.setPull(sim, app.DOOR, up(1 - was));
      k.setPull(sim, app.DOOR, up(was));
      k.setPull(sim, app.DOOR, up(1 - was));
      await untilTelemetry(
        emu,
        app.RELAYS_DEVICE,
        "door",
        `door=${String(was === 0)}`,
        30_000 * TCG,
        (v) => v === (was === 0),
        before,
      );
      // Then one clean change back: its report closes the window in which the bounce was reported.
      k.setPull(sim, app.DOOR, up(was));
      await untilTelemetry(
        emu,
        app.RELAYS_DEVICE,
        "door",
        `door=${String(was === 1)}`,
        30_000 * TCG,
        (v) => v === (was === 1),
        before + 1,
      );
      const reports = emu
        .telemetry(app.RELAYS_DEVICE, "door")
        .slice(before)
        .map((r) => r.values.door);
      assert(
        JSON.stringify(reports) === JSON.stringify([was === 0, was === 1]),
        `bounce then one change gave reports ${JSON.stringify(reports)}`,
      );
      const gets = k.tracedGets(gpio(app.DOOR));
      return `line ${was}->${1 - was} bouncing 3 times, then back: reports ${JSON.stringify(reports)}; the kernel traced ${gets.length} reads of gpio${gpio(app.DOOR)}`;
    },
    [MAPPED],
  );

  await checks.run(
    "i2c-bus reads the BME280 register image on i2c-stub; the emulator gets the values it encodes",
    async () => {
      const want = expectedReading();
      const rec = await untilTelemetry(
        emu,
        app.CLIMATE_DEVICE,
        "temperature",
        "a BME280 reading",
        90_000 * TCG,
        (v) => typeof v === "number",
      );
      const all = emu.telemetry(app.CLIMATE_DEVICE).find((r) => r.ts === rec.ts) ?? rec;
      const v = all.values as { temperature: number; pressure: number; humidity: number };
      const close = (a: number, b: number, tol: number): boolean => Math.abs(a - b) <= tol;
      // The driver rounds to 2 decimals; the datasheet's integer and double formulas agree within these.
      assert(
        close(v.temperature, want.temperature, 0.011) &&
          close(v.pressure, want.pressure, 0.011) &&
          close(v.humidity, want.humidity, 0.05),
        `got ${JSON.stringify(v)}, datasheet formulas give ${JSON.stringify(want)}`,
      );
      return `/dev/i2c-${bus}: ${v.temperature} °C, ${v.pressure} hPa, ${v.humidity} %RH (datasheet: ${want.temperature.toFixed(3)}, ${want.pressure.toFixed(3)}, ${want.humidity.toFixed(3)})`;
    },
    [STARTED, STUB],
  );

  await ads1115Check(rig, [STARTED, STUB]);
  checks.cannot(
    "SHT31 and BH1750 on i2c-stub",
    "both answer plain I2C reads without a register (command, then read), which i2c-stub does not implement",
  );

  await checks.run(
    "GPIO and I2C work under the unit's hardening as the service user (not root)",
    async () => {
      const pid = await app.mainPid();
      const { out: user } = await sh("ps", ["-o", "user=", "-p", String(pid)]);
      const status = readFileSync(`/proc/${pid}/status`, "utf8");
      const capEff = /CapEff:\s*(\S+)/.exec(status)?.[1];
      const p = await unitProps(app.UNIT, [
        "ProtectSystem",
        "DevicePolicy",
        "NoNewPrivileges",
        "RestrictAddressFamilies",
        "User",
      ]);
      assert(user.trim() === app.SERVICE_USER, `main process runs as ${user.trim()}`);
      assert(capEff === "0000000000000000", `main process has capabilities ${capEff}`);
      assert(
        p.ProtectSystem === "strict" && p.DevicePolicy === "closed" && p.NoNewPrivileges === "yes",
        `hardening not in force: ${JSON.stringify(p)}`,
      );
      const owner = statSync(`/sys/class/gpio/gpio${gpio(app.RELAY1)}/value`);
      return `pid ${pid} user ${user.trim()}, CapEff 0, ProtectSystem=strict DevicePolicy=closed NoNewPrivileges=yes; gpio value file gid ${owner.gid}, GPIO and I2C checks above passed`;
    },
    [MAPPED, EDGE, I2C],
  );
}
