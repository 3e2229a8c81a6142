import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { DashboardServer } from "../../../server/http/dashboardServer.ts";
import { StartupError } from "../../../server/startupFailure.ts";
import { createFakeDashboard } from "../../fakes/dashboardContext.ts";
import { connectAuthed, login, nextEvent, startDashboard } from "./harness.ts";

describe("DashboardServer lifecycle", () => {
  // engine.io's orderly polling close would hold stop() for 30 s: the test's timeout catches that
  // without asserting a speed.
  test("stop closes sockets and the server and removes every bus listener", { timeout: 15_000 }, async () => {
    const run = await startDashboard();
    const bus = run.fake.bus;
    assert.ok(bus.listenerCount("deviceUpdated") > 0);
    const { socket } = await connectAuthed(run, await login(run.base));
    const gone = nextEvent(socket, "disconnect");
    await run.server.stop();
    await gone;
    for (const e of ["deviceUpdated", "connection", "outbox", "eventLog", "devicesChanged", "claimWindow"] as const)
      assert.equal(bus.listenerCount(e), 0, e);
    await assert.rejects(fetch(`${run.base}/api/health`));
    await run.server.stop(); // idempotent
    await assert.rejects(run.server.start(), { message: "DashboardServer cannot start: it is stopped" });
  });

  test("a taken port is a clear start-up error, and leaves nothing behind", async () => {
    const first = await startDashboard();
    const fake = createFakeDashboard();
    fake.ctx.config.http.port = first.server.port;
    const second = new DashboardServer(fake.ctx);
    const port = first.server.port;
    await assert.rejects(
      second.start(),
      (err: Error) =>
        err instanceof StartupError &&
        err.message ===
          `The dashboard cannot listen on port ${port} (127.0.0.1:${port}): another program is already using it. Choose a free port with HTTP_PORT (e.g. HTTP_PORT=8080) or http.port in the config file.` &&
        (err.cause as NodeJS.ErrnoException).code === "EADDRINUSE",
    );
    assert.equal(fake.bus.listenerCount("deviceUpdated"), 0);
    await first.close();
  });

  test("a missing context is a programmer error", () => {
    assert.throws(() => new DashboardServer(undefined as never), {
      message: "DashboardServer needs a DashboardContext",
    });
  });
});
