// 20 dashboard clients while a device updates 100 times a second: coalescing keeps each client at
// ~10 updates/s for that device, and every client ends on the final value. How fast it stays
// under this load is a speed: `npm run bench` measures delivery delay and CPU (scripts/bench/dashboard.ts).
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import type { DeviceSnapshot } from "../../../server/events.ts";
import { connectAuthed, login, startDashboard, type Running } from "./harness.ts";

const CLIENTS = 20;
const RATE = 100;
const SECONDS = 2;

describe("dashboard fan-out", () => {
  let run: Running;
  before(async () => {
    run = await startDashboard({}, { coalesceMs: 100 });
  });
  after(() => run.close());

  test(`${CLIENTS} clients x ${RATE} updates/s: coalesced to ~10/s per client, each ends on the final value`, async () => {
    const cookie = await login(run.base);
    const received: number[] = Array.from({ length: CLIENTS }, () => 0);
    const last: (number | undefined)[] = [];
    for (let i = 0; i < CLIENTS; i++) {
      const { socket } = await connectAuthed(run, cookie);
      socket.on("device", (batch: DeviceSnapshot[]) => {
        for (const d of batch)
          if (d.id === "env") {
            received[i] = (received[i] ?? 0) + 1;
            last[i] = d.values["temperature"] as number;
          }
      });
    }
    const total = RATE * SECONDS;
    let sent = 0;
    const started = Date.now();
    await new Promise<void>((resolve) => {
      const timer = setInterval(() => {
        const due = Math.min(total, Math.floor(((Date.now() - started) * RATE) / 1000));
        while (sent < due) run.fake.update("env", { temperature: sent++ });
        if (sent >= total) {
          clearInterval(timer);
          resolve();
        }
      }, 5);
    });
    // The final state reaches every client (bounded wait).
    const deadline = Date.now() + 3000;
    while (Date.now() < deadline && !last.every((v) => v === total - 1)) await new Promise((r) => setTimeout(r, 20));
    const maxPerClient = Math.max(...received);
    console.log(
      `[dashboard fan-out] ${CLIENTS} clients, ${total} updates in ${SECONDS} s -> ${Math.min(...received)}-${maxPerClient} per client`,
    );
    assert.ok(
      last.every((v) => v === total - 1),
      "every client got the final value",
    );
    assert.ok(maxPerClient <= SECONDS * 10 + 3, `at most ~10 updates/s per client, got ${maxPerClient}`);
  });
});
