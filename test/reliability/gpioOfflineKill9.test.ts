// The virtual Pi's kill -9 check (scripts/vm/guest/checks.ts) on the host: door changes made while
// ThingsBoard is unreachable must be on disk within outbox.diskFlushMs and survive a SIGKILL.
// The appliance runs as a child process (simHeaderChild.ts: main.ts's composition root plus stdin
// commands for the simulated header) with the VM's door input (edge both, debounceMs 300) and a
// BME280 every 2 s, against the emulator in this process. One change while connected arrives;
// the emulator goes away; two changes, each waited for until the appliance reported it (the
// debounced read: a positive signal, not a guess at the debounce's timing); then more than 10x
// diskFlushMs; SIGKILL. The outbox file must hold both, and after a restart of the real entry
// point (server/main.ts) with the emulator back, both arrive with their original ts.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { rmSync } from "node:fs";
import { startEmulator, type Emulator } from "../../scripts/emulator/index.ts";
import {
  GW_NAME,
  GW_TOKEN,
  outboxRecords,
  rawConfig,
  spawnApp,
  spawnSimHeaderApp,
  tempDir,
  writeConfigFile,
  type ChildApp,
} from "../fakes/appHarness.ts";
import { until } from "../fakes/waitFor.ts";

const DISK_FLUSH_MS = 200;
const DOOR = 22;
const RELAYS = "rel Relays";
const DEVICES: unknown[] = [
  {
    id: "relays",
    kind: "gpio",
    name: "{unit} Relays",
    outputs: [{ pin: 17, label: "relay1" }],
    inputs: [{ pin: DOOR, label: "door", edge: "both", debounceMs: 300 }],
  },
  {
    id: "climate",
    kind: "sensor",
    chip: "bme280",
    name: "{unit} Climate",
    address: 0x76,
    intervalSec: 2,
    report: { strategy: "every" },
  },
];

let emu: Emulator;
const dir = tempDir("rel-gpio-kill9-");
const children: ChildApp[] = [];

before(async () => {
  emu = await startEmulator({ gateways: [{ name: GW_NAME, accessToken: GW_TOKEN }], httpPort: null });
});
after(async () => {
  for (const c of children) if (c.proc.exitCode === null && c.proc.signalCode === null) c.proc.kill("SIGKILL");
  await Promise.all(children.map((c) => c.exited));
  await emu?.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** The door records the child reported (SIMCTL telemetry lines), in order. */
function reportedDoor(child: ChildApp): Array<{ ts: number; door: boolean }> {
  const out: Array<{ ts: number; door: boolean }> = [];
  for (const l of child.lines) {
    if (!l.startsWith("SIMCTL telemetry ")) continue;
    const r = JSON.parse(l.slice("SIMCTL telemetry ".length)) as {
      device: string;
      ts: number;
      values: Record<string, unknown>;
    };
    if (r.device === RELAYS && typeof r.values["door"] === "boolean") out.push({ ts: r.ts, door: r.values["door"] });
  }
  return out;
}

test(
  "SIGKILL after door changes made while ThingsBoard is unreachable: both are on disk and arrive after restart",
  { timeout: 90_000 },
  async () => {
    const data = `${dir}/data`;
    const config = writeConfigFile(
      dir,
      rawConfig(emu.mqttPort, data, {
        thingsboard: { flushIntervalMs: 100 },
        outbox: { diskFlushMs: DISK_FLUSH_MS },
        devices: DEVICES,
      }),
    );
    const first = spawnSimHeaderApp(config);
    children.push(first);
    await first.waitLine(/^SIMCTL ready/, 30_000);
    await until(() => emu.telemetry(RELAYS, "door").length > 0, "the start-up report of the door", 20_000);

    // One change while connected: it arrives (edges work at all in this set-up).
    await first.input(DOOR, 1);
    await until(
      () => emu.telemetry(RELAYS, "door").some((r) => r.values["door"] === true),
      "the online door change",
      20_000,
    );

    await emu.pause();
    const pausedAt = Date.now();
    const offline: Array<{ ts: number; door: boolean }> = [];
    for (const level of [0, 1] as const) {
      const seen = reportedDoor(first).length;
      await first.input(DOOR, level);
      // The debounced read was reported: from here the outbox's bound applies.
      const rec = await until(
        () =>
          reportedDoor(first)
            .slice(seen)
            .find((r) => r.door === (level === 1)),
        `door=${level === 1} reported while offline`,
        20_000,
      );
      offline.push(rec);
    }
    // As in the VM: more than 10x diskFlushMs after the last change was reported.
    await new Promise((r) => setTimeout(r, 2300));
    const killedAt = Date.now();
    first.proc.kill("SIGKILL");
    assert.equal((await first.exited).signal, "SIGKILL");

    const onDisk = outboxRecords(data, RELAYS)
      .filter((r) => r.ts >= pausedAt)
      .map((r) => ({ ts: r.ts, door: r.values["door"] }));
    assert.deepEqual(
      onDisk.filter((r) => r.door !== undefined),
      offline,
      `both offline door changes in the outbox file at the kill (kill at +${killedAt - pausedAt} ms)`,
    );

    await emu.resume();
    const second = spawnApp(config);
    children.push(second);
    const arrived = () =>
      emu
        .telemetry(RELAYS, "door")
        .filter((r) => r.ts >= pausedAt && r.ts < killedAt)
        .map((r) => ({ ts: r.ts, door: r.values["door"] }));
    await until(
      () => offline.every((o) => arrived().some((a) => a.ts === o.ts)),
      "both offline door changes delivered after the restart",
      30_000,
    ).catch(() => {});
    assert.deepEqual(arrived(), offline, "the offline door changes arrive once each, in order, with their original ts");

    second.proc.kill("SIGTERM");
    assert.equal((await second.exited).code, 0);
  },
);
