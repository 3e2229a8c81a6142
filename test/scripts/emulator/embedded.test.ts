// The demo's embedded emulator (scripts/emulator/embedded.ts) on its preferred ports (issue 13):
// with one of them taken, only that one moves to a free port and the warning names it; no emulator
// error line comes first.
import { after, test } from "node:test";
import assert from "node:assert/strict";
import { rmSync } from "node:fs";
import { join } from "node:path";
import { startDemoThingsBoard } from "../../../scripts/emulator/embedded.ts";
import { Controller } from "../../../server/controller.ts";
import { configFrom, rawConfig, recordingLogger, tempDir } from "../../fakes/appHarness.ts";
import { closedPort, occupyPort } from "../../fakes/mainProcess.ts";

const dir = tempDir("preferred-ports-");
after(() => rmSync(dir, { recursive: true, force: true }));

test(
  "the demo with its REST port taken: only REST moves, and the warning says which",
  { timeout: 60_000 },
  async () => {
    const held = await occupyPort("127.0.0.1");
    const mqtt = await closedPort();
    const { log, records } = recordingLogger();
    const controller = new Controller({
      config: configFrom(rawConfig(await closedPort(), join(dir, "demo"))),
      log,
      unit: "pp",
      version: "0.0.0-test",
      demo: true,
      embeddedThingsBoard: startDemoThingsBoard,
      dashboard: false,
      emulatorPorts: { mqtt, http: held.port },
    });
    try {
      await controller.start();
      const emu = controller.emulator;
      assert.ok(emu);
      assert.equal(emu.mqttPort, mqtt, "MQTT stays on its preferred port");
      assert.notEqual(emu.httpPort, held.port);
      const emulatorLines = records
        .filter((r) => r.level !== "info" && (r.ns.includes("emulator") || r.msg.includes("emulator")))
        .map((r) => r.msg);
      assert.deepEqual(
        emulatorLines,
        [`emulator: port ${held.port} is in use, so its REST side takes a free port instead (MQTT stays on ${mqtt})`],
        "one warning naming the port, no error line before it",
      );
    } finally {
      await controller.stop();
      await held.close();
    }
  },
);

test("the MQTT port taken: only MQTT moves; both taken: both move, each named", { timeout: 60_000 }, async (t) => {
  const heldMqtt = await occupyPort("127.0.0.1");
  const heldHttp = await occupyPort("127.0.0.1");
  t.after(() => Promise.all([heldMqtt.close(), heldHttp.close()]));
  const http = await closedPort();
  const { log, records } = recordingLogger();
  const gateway = { name: "pp Gateway", accessToken: "pp-token" };
  const warnings = () => records.filter((r) => r.level === "warn").map((r) => r.msg);
  const one = await startDemoThingsBoard({ gateway, log, mqttPort: heldMqtt.port, httpPort: http });
  try {
    assert.deepEqual(
      records.filter((r) => r.level === "error").map((r) => r.msg),
      [],
      'no "MQTT listener error" line for the port it then moves',
    );
    assert.equal(one.httpPort, http);
    assert.notEqual(one.mqttPort, heldMqtt.port);
    assert.deepEqual(warnings(), [
      `emulator: port ${heldMqtt.port} is in use, so its MQTT side takes a free port instead (REST stays on ${http})`,
    ]);
  } finally {
    await one.stop();
  }
  records.length = 0;
  const both = await startDemoThingsBoard({ gateway, log, mqttPort: heldMqtt.port, httpPort: heldHttp.port });
  try {
    assert.notEqual(both.mqttPort, heldMqtt.port);
    assert.notEqual(both.httpPort, heldHttp.port);
    assert.deepEqual(warnings(), [
      `emulator: port ${heldMqtt.port} is in use, so its MQTT side takes a free port instead (REST stays on ${heldHttp.port})`,
      `emulator: port ${heldHttp.port} is in use, so its REST side takes a free port instead`,
    ]);
  } finally {
    await both.stop();
  }
});
