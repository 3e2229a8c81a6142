// The composition root's start can fail half way (here: the dashboard's port is taken, the most
// common start-up failure on a Pi). stop() must then undo every part that did start, in reverse
// order: outputs to their safe state, that state reported into the outbox and the outbox closed,
// the embedded emulator's ports freed (issue 15).
import { test } from "node:test";
import assert from "node:assert/strict";
import { createServer, type Server } from "node:net";
import { rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Controller } from "../../server/controller.ts";
import { configFrom, outboxRecords, rawConfig, recordingLogger, RELAYS, tempDir, UNIT } from "../fakes/appHarness.ts";
import { startDemoThingsBoard } from "../../scripts/emulator/embedded.ts";

function listen(port: number): Promise<Server> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(port, "127.0.0.1", () => resolve(s));
  });
}

function close(s: Server): Promise<void> {
  return new Promise((resolve) => s.close(() => resolve()));
}

test("stop() after a start that failed at the dashboard undoes every part that started", async () => {
  const dir = tempDir("ctl-partial-");
  const blocker = await listen(0);
  const taken = (blocker.address() as { port: number }).port;
  try {
    // relay1 was on when the unit last ran (a shared attribute kept in the state file).
    writeFileSync(join(dir, "state.json"), JSON.stringify({ devices: { relays: { relay1: true } } }));
    const config = configFrom(rawConfig(1, dir, { http: { port: taken } }));
    const { log, records } = recordingLogger();
    const controller = new Controller({
      config,
      log,
      unit: UNIT,
      version: "0.0.0-test",
      demo: true,
      embeddedThingsBoard: startDemoThingsBoard,
      emulatorPorts: { mqtt: 0, http: 0 },
    });
    const relay1: number[] = [];
    controller.hardware.sim?.gpio.on("change", (pin, level) => {
      if (pin === 17) relay1.push(level);
    });

    await assert.rejects(controller.start(), /port|EADDRINUSE/i);
    const emu = controller.emulator;
    assert.ok(emu, "the emulator had started before the dashboard");
    await controller.stop();

    // Outputs: switched on by the saved attribute, then back to the safe state (0) by stop().
    assert.deepEqual(relay1, [1, 0]);
    // The shutdown's safe state was reported, flushed from the bridge into the outbox and kept on disk.
    const relays = outboxRecords(dir, RELAYS);
    assert.equal(relays.at(-1)?.values["relay1"], false, JSON.stringify(relays));
    // The emulator's ports are free again.
    for (const port of [emu.mqttPort, emu.httpPort]) if (port !== null) await close(await listen(port));
    assert.deepEqual(
      records.filter((r) => r.msg.startsWith("shutdown:")),
      [],
      "no shutdown step failed",
    );
    // A second stop() is the same stop.
    await controller.stop();
  } finally {
    await close(blocker);
    rmSync(dir, { recursive: true, force: true });
  }
});
