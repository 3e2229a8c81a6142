// Fault test 8, corrupt state files at start-up (power cut during a write, a failing SD card, a
// hand edit): garbage in <dataDir>/outbox.sqlite and in <dataDir>/state.json, or a state file
// that is valid JSON of the wrong shape. The appliance must start, move unreadable files aside
// (keeping them for a post-mortem), log it as an error, and then work: readings are delivered,
// RPC and shared attributes drive the relays and are remembered.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { startEmulator, type Emulator } from "../../scripts/emulator/index.ts";
import {
  analyse,
  ArrivalRecorder,
  GW_NAME,
  GW_TOKEN,
  rawConfig,
  RELAYS,
  SeqProducer,
  startApp,
  summary,
  tempDir,
} from "../fakes/appHarness.ts";
import { until } from "../fakes/waitFor.ts";

let emu: Emulator;
const dirs: string[] = [];

before(async () => {
  emu = await startEmulator({
    gateways: [{ name: GW_NAME, accessToken: GW_TOKEN }],
    minRpcTimeoutMs: 100,
    rpcTimeoutMs: 3000,
  });
});
after(async () => {
  await emu?.stop();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const CASES: Array<{ name: string; outbox?: Buffer | string; state: Buffer | string; movedAside: string[] }> = [
  {
    name: "random bytes in both files",
    outbox: randomBytes(8192),
    state: randomBytes(300),
    movedAside: ["outbox.sqlite", "state.json"],
  },
  {
    name: "a torn outbox header and truncated JSON",
    outbox: Buffer.concat([Buffer.from("SQLite format 3\0"), randomBytes(4000)]),
    state: '{"devices":{"relays":{"relay2":tru',
    movedAside: ["outbox.sqlite", "state.json"],
  },
  { name: "state of the wrong shape (devices: null)", state: '{"devices":null}', movedAside: [] },
  {
    name: "state of the wrong shape (devices: a string, a device: a number)",
    state: '{"devices":"oops"}',
    movedAside: [],
  },
  {
    name: "state of the wrong shape (a device entry is not an object)",
    state: '{"devices":{"relays":42}}',
    movedAside: [],
  },
  { name: "state that is a JSON array", state: "[1,2,3]", movedAside: [] },
];

describe("corrupt state files at start-up", () => {
  for (const c of CASES) {
    test(c.name, { timeout: 20_000 }, async () => {
      const dir = tempDir("rel-corrupt-");
      dirs.push(dir);
      if (c.outbox !== undefined) writeFileSync(join(dir, "outbox.sqlite"), c.outbox);
      writeFileSync(join(dir, "state.json"), c.state);
      const app = await startApp(rawConfig(emu.mqttPort, dir));
      try {
        await app.ready();
        const files = readdirSync(dir);
        for (const f of c.movedAside) {
          assert.ok(
            files.some((x) => x.startsWith(`${f}.corrupt-`)),
            `${f} moved aside (files: ${files.join(", ")})`,
          );
          assert.ok(
            app.records.some((r) => r.level === "error" && r.msg.includes(f)),
            `an error names ${f}`,
          );
        }
        // It works: readings flow, RPC and shared attributes drive the relays and are remembered.
        const rec = new ArrivalRecorder();
        rec.attach(emu);
        const producer = new SeqProducer(app.controller.bus, [`Corrupt ${dirs.length}`], 200);
        producer.start();
        await new Promise((r) => setTimeout(r, 300));
        producer.stop();
        await until(() => rec.distinct() >= producer.count, "readings delivered", 5000);
        const gpio = app.controller.hardware.sim?.gpio;
        assert.ok(gpio);
        const before17 = gpio.level(17);
        const r = await emu.rpc(RELAYS, "toggle_gpio", { pin: 17 }, { twoWay: true, timeoutMs: 3000 });
        assert.deepEqual(r.body, { success: true, pin: 17, enabled: before17 === 0 });
        emu.setShared(RELAYS, { relay2: true });
        await until(() => gpio.level(27) === 1, "relay2 on by shared attribute", 3000);
        const report = analyse(producer.produced, rec.arrivals);
        summary(`corrupt start: ${c.name}`, report);
        assert.equal(report.lost, 0);
        assert.ok(
          !app.records.some((x) => /uncaught|unhandled|TypeError/.test(x.msg)),
          `no crash logged: ${app.records.map((x) => x.msg).join(" | ")}`,
        );
      } finally {
        await app.stop();
        emu.deleteShared(RELAYS, ["relay2"]);
      }
      // The shared attribute was remembered in a state file that is well-formed again.
      const saved = JSON.parse(readFileSync(join(dir, "state.json"), "utf8")) as {
        devices?: Record<string, Record<string, unknown>>;
      };
      assert.equal(
        saved.devices?.["relays"]?.["relay2"],
        true,
        `relay2 remembered in state.json: ${JSON.stringify(saved)}`,
      );
    });
  }
});
