// What systemd does for the appliance when things go wrong: the watchdog restarts a hung
// process, a kill -9 while ThingsBoard is away loses nothing, and a stop leaves the outputs safe.
import { readdirSync } from "node:fs";
import * as app from "./appliance.ts";
import { assert, CheckFailed, sh, unitProps, waitUntil } from "./harness.ts";
import * as k from "./kernelSims.ts";
import { count, gpioOf, TCG, untilTelemetry, type Rig } from "./rig.ts";
import { EDGE, MAPPED, STARTED } from "./serviceChecks.ts";

export async function resilienceChecks(rig: Rig): Promise<void> {
  const { checks, emu, sim } = rig;
  const gpio = (bcm: number): number => gpioOf(rig, bcm);

  await checks.run(
    "watchdog restarts the service when it stops answering (SIGSTOP)",
    async () => {
      const p = await unitProps(app.UNIT, ["WatchdogUSec", "RestartUSec", "NRestarts"]);
      const pid = await app.mainPid();
      const since = await app.nowForJournal();
      const start = performance.now();
      rig.lastStop = Date.now();
      process.kill(pid, "SIGSTOP");
      const limit = (parseDurationSec(p.WatchdogUSec) + parseDurationSec(p.RestartUSec)) * 1000;
      const newPid = await app.waitActive(limit + 300_000 * TCG, pid);
      const secs = (performance.now() - start) / 1000;
      const journal = await app.journalSince(since);
      assert(
        /[Ww]atchdog timeout/.test(journal),
        `restarted, but the journal shows no watchdog timeout:\n${journal.slice(-600)}`,
      );
      return `pid ${pid} stopped -> watchdog timeout -> new pid ${newPid} active after ${secs.toFixed(1)} s (WatchdogSec ${p.WatchdogUSec} + RestartSec ${p.RestartUSec}; the rest is start-up under emulation)`;
    },
    [STARTED],
  );

  await checks.run(
    "kill -9 while ThingsBoard is unreachable: systemd restarts it and nothing is lost",
    async () => {
      const pid = await app.mainPid();
      // The service restarted in the check above: its start-up report shows it is connected.
      await untilTelemetry(
        emu,
        app.RELAYS_DEVICE,
        "relay1",
        "the report of the restarted service",
        120_000 * TCG,
        (_v, ts) => ts >= rig.lastStop,
      );
      // First one change while ThingsBoard is reachable: tells "edges not seen after a restart"
      // apart from "changes lost by the kill".
      {
        const was = k.simValue(sim, app.DOOR);
        const n = count(emu, app.RELAYS_DEVICE, "door");
        k.setPull(sim, app.DOOR, was === 1 ? "pull-down" : "pull-up");
        await untilTelemetry(
          emu,
          app.RELAYS_DEVICE,
          "door",
          `an online door change after the watchdog restart (door=${String(was === 0)})`,
          30_000 * TCG,
          (v) => v === (was === 0),
          n,
        );
      }
      await emu.pause();
      const pausedAt = Date.now();
      const wanted: boolean[] = [];
      for (let n = 0; n < 2; n++) {
        const was = k.simValue(sim, app.DOOR);
        k.clearGpioTrace();
        k.setPull(sim, app.DOOR, was === 1 ? "pull-down" : "pull-up");
        wanted.push(was === 0);
        // Wait for the appliance's debounced read, not just any read: onoff reads the value once when
        // the interrupt comes (to clear it) and again debounceMs after the last interrupt (lodash
        // debounce, trailing), and only that second read is reported. Waiting for the first read
        // alone made the next change within debounceMs, so 0->1->0 was a glitch the debounce
        // rightly swallowed (test/drivers/gpio/contract.ts, "a glitch that returns reports
        // nothing"), and nothing was produced for the outbox to keep.
        await waitUntil(
          `the appliance's debounced read of door level ${1 - was}`,
          30_000 * TCG,
          () => (k.tracedGets(gpio(app.DOOR)).filter((v) => v === 1 - was).length >= 2 ? true : undefined),
          100,
        );
      }
      // The outbox writes to disk every diskFlushMs (200 ms in this config): its documented bound
      // for what a crash can take. Wait 10x that before the kill.
      await new Promise((r) => setTimeout(r, 2000));
      const killedAt = Date.now();
      rig.lastKill = killedAt;
      process.kill(pid, "SIGKILL");
      const newPid = await app.waitActive(300_000 * TCG, pid);
      await emu.resume();
      const history = (): string =>
        JSON.stringify(
          emu
            .telemetry(app.RELAYS_DEVICE, "door")
            .slice(-6)
            .map((r) => [r.ts - pausedAt, r.values.door]),
        );
      for (const value of wanted) {
        await untilTelemetry(
          emu,
          app.RELAYS_DEVICE,
          "door",
          `door=${value} recorded while offline`,
          120_000 * TCG,
          (v, ts) => v === value && ts >= pausedAt && ts < killedAt,
        ).catch((err: Error) => {
          throw new CheckFailed(
            `${err.message}; last door reports [ms after the pause, value]: ${history()}, kill at +${killedAt - pausedAt} ms`,
          );
        });
      }
      const offline = emu
        .telemetry(app.RELAYS_DEVICE, "door")
        .filter((r) => r.ts >= pausedAt && r.ts < killedAt)
        .map((r) => r.values.door);
      assert(
        JSON.stringify(offline) === JSON.stringify(wanted),
        `offline door changes ${JSON.stringify(wanted)}, delivered ${JSON.stringify(offline)}`,
      );
      return `2 door changes made while the emulator was down, pid ${pid} killed (-9), new pid ${newPid}; both delivered after reconnect with their original timestamps`;
    },
    [EDGE],
  );

  await checks.run(
    "systemctl stop puts outputs in their safe state",
    async () => {
      // Every start reports the outputs: one stamped after the kill shows the new session is up.
      await untilTelemetry(
        emu,
        app.RELAYS_DEVICE,
        "relay1",
        "the report of the restarted service",
        120_000 * TCG,
        (_v, ts) => ts >= rig.lastKill,
      );
      for (const pin of [app.RELAY1, app.RELAY2]) {
        const res = await emu.rpc(
          app.RELAYS_DEVICE,
          "setGpioStatus",
          { pin, enabled: true },
          { timeoutMs: 30_000 * TCG },
        );
        assert(res.status === 200, `setGpioStatus ${pin} answered ${res.status} ${JSON.stringify(res.body)}`);
      }
      assert(k.simValue(sim, app.RELAY1) === 1 && k.simValue(sim, app.RELAY2) === 0, "relays not on before the stop");
      k.clearGpioTrace();
      await sh("systemctl", ["stop", app.UNIT]);
      // After the stop the lines are released and gpio-sim shows their pull again, so the level
      // driven at shutdown is read from the kernel's gpio_value trace.
      const s1 = k.tracedSets(gpio(app.RELAY1));
      const s2 = k.tracedSets(gpio(app.RELAY2));
      assert(s1.at(-1) === 0, `relay1 (safe 0, active high) last driven levels ${JSON.stringify(s1)}`);
      assert(s2.at(-1) === 1, `relay2 (safe 0, active low) last driven levels ${JSON.stringify(s2)}`);
      const exported = readdirSync("/sys/class/gpio").filter((n) => /^gpio\d+$/.test(n));
      return `at stop the kernel drove relay1 -> 0, relay2 (active low) -> 1 (line high = off); lines released after (${exported.length} still exported)`;
    },
    [MAPPED],
  );
}

/** "30s", "5s", "1min 30s", "500ms" (systemctl show) -> seconds. */
export function parseDurationSec(s: string | undefined): number {
  if (!s) return 0;
  let total = 0;
  for (const m of s.matchAll(/(\d+(?:\.\d+)?)\s*(min|ms|us|s|h)/g)) {
    const n = Number(m[1]);
    total += m[2] === "min" ? n * 60 : m[2] === "ms" ? n / 1000 : m[2] === "us" ? n / 1e6 : m[2] === "h" ? n * 3600 : n;
  }
  return total;
}
