// Fault test 9, graceful SIGTERM (systemd stop, apt upgrade, reboot) while offline with a
// backlog: the real appliance as a child process must exit 0 within a few seconds, with every
// reading produced up to the signal saved in the outbox (flushed on close, not only what the
// last diskFlushMs tick wrote), the relays in their safe state and that change reported: the
// backlog and the relay1=false record arrive once ThingsBoard and the appliance are back.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { rmSync } from "node:fs";
import { startEmulator, type Emulator } from "../../scripts/emulator/index.ts";
import {
  CHILD_DEVICES,
  CLIMATE,
  CLIMATE_INTERVAL_MS,
  GW_NAME,
  GW_TOKEN,
  outboxRecords,
  rawConfig,
  RELAYS,
  spawnApp,
  summary,
  tempDir,
  writeConfigFile,
  type ChildApp,
} from "../fakes/appHarness.ts";
import { until } from "../fakes/waitFor.ts";

// Long on purpose: only the flush on close can have saved the last second of readings.
const DISK_FLUSH_MS = 5000;
let emu: Emulator;
const dir = tempDir("rel-sigterm-");
const children: ChildApp[] = [];

before(async () => {
  emu = await startEmulator({
    gateways: [{ name: GW_NAME, accessToken: GW_TOKEN }],
    minRpcTimeoutMs: 100,
    rpcTimeoutMs: 5000,
  });
});
after(async () => {
  for (const c of children) if (c.proc.exitCode === null && c.proc.signalCode === null) c.proc.kill("SIGKILL");
  await Promise.all(children.map((c) => c.exited));
  await emu?.stop();
  rmSync(dir, { recursive: true, force: true });
});

test(
  "SIGTERM offline: exit 0 fast, backlog flushed to disk, outputs safe and reported",
  { timeout: 60_000 },
  async () => {
    const config = writeConfigFile(
      dir,
      rawConfig(emu.mqttPort, `${dir}/data`, { outbox: { diskFlushMs: DISK_FLUSH_MS }, devices: CHILD_DEVICES }),
    );
    const first = spawnApp(config);
    children.push(first);
    await until(() => emu.telemetry(CLIMATE, "temperature").length >= 3, "first Climate readings online", 20_000);
    const on = await emu.rpc(RELAYS, "toggle_gpio", { pin: 17 }, { twoWay: true, timeoutMs: 5000 });
    assert.deepEqual(on.body, { success: true, pin: 17, enabled: true });

    await emu.pause();
    await new Promise((r) => setTimeout(r, 1500));
    const termAt = Date.now();
    first.proc.kill("SIGTERM");
    const exit = await Promise.race([first.exited, new Promise<null>((r) => setTimeout(() => r(null), 8000))]);
    const exitMs = Date.now() - termAt;
    assert.ok(exit, `exited within 8 s of SIGTERM (log tail: ${first.lines.slice(-5).join(" | ")})`);
    assert.deepEqual(exit, { code: 0, signal: null }, "exit code 0");

    const backlog = outboxRecords(`${dir}/data`, CLIMATE).map((r) => r.ts);
    const relayOnDisk = outboxRecords(`${dir}/data`, RELAYS).filter(
      (r) => r.values["relay1"] === false && r.ts >= termAt,
    );
    const newest = Math.max(...backlog);
    assert.ok(backlog.length >= 5, `a backlog was saved (${backlog.length})`);
    assert.ok(
      termAt - newest <= 3 * CLIMATE_INTERVAL_MS + 200,
      `readings up to the signal were saved (newest ${termAt - newest} ms before SIGTERM, diskFlushMs ${DISK_FLUSH_MS})`,
    );
    assert.equal(relayOnDisk.length, 1, "the safe state of relay1 was reported and saved");

    await emu.resume();
    const second = spawnApp(config);
    children.push(second);
    const want = new Set(backlog);
    await until(
      () => {
        const got = new Set(emu.telemetry(CLIMATE, "temperature").map((r) => r.ts));
        return (
          [...want].every((t) => got.has(t)) && emu.telemetry(RELAYS, "relay1").some((r) => r.ts === relayOnDisk[0]?.ts)
        );
      },
      "backlog and the safe-state record delivered after restart",
      20_000,
    ).catch(() => {});
    const arrivals = emu.telemetry(CLIMATE, "temperature").map((r) => r.ts);
    const got = new Set(arrivals);
    const lost = [...want].filter((t) => !got.has(t));
    const safe = emu.telemetry(RELAYS, "relay1").find((r) => r.ts === relayOnDisk[0]?.ts);
    summary(
      "SIGTERM offline backlog",
      {
        produced: want.size,
        delivered: want.size - lost.length,
        lost: lost.length,
        duplicates: arrivals.length - got.size,
      },
      `exit_ms=${exitMs} newest_saved_before_term_ms=${termAt - newest}`,
    );
    assert.deepEqual(lost, []);
    assert.equal(safe?.values["relay1"], false, "relay1=false with its shutdown ts reached ThingsBoard");

    second.proc.kill("SIGTERM");
    assert.equal((await second.exited).code, 0);
  },
);
