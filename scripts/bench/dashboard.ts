// Scenario 6, dashboard fan-out: the real Controller's dashboard (Express + socket.io, login, the
// delta coalescer) with 20 socket.io clients in a child process; 100 device updates per second
// (100 devices at 1 Hz each) go through the bus. Delivery delay update -> client, and server CPU.
import { fork } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { configSchema } from "../../server/config/schema.ts";
import { Controller } from "../../server/controller.ts";
import type { DeviceSnapshot } from "../../server/events.ts";
import { benchLogger } from "./bridgeRig.ts";
import { cpuSecondsSince, row, sleep, type BenchRow, type Scenario, type ScenarioContext } from "./common.ts";

const NAME = "dashboard";
const CLIENTS_FILE = fileURLToPath(new URL("./dashboardClients.ts", import.meta.url));
const PASSWORD = "bench-dashboard-password";

interface Report {
  updates: number;
  clients: number;
  n: number;
  p50: number;
  p99: number;
  max: number;
}

export const dashboardScenario: Scenario = {
  name: NAME,
  describe: "20 socket.io clients, 100 device updates/s: delivery p99 and server CPU",
  async run(ctx: ScenarioContext): Promise<BenchRow[]> {
    const clients = 20;
    const devices = 100;
    const seconds = ctx.quick ? 3 : 15;
    const dir = mkdtempSync(join(tmpdir(), "bench-dash-"));
    // ThingsBoard is deliberately unreachable (port 1): only the dashboard is measured.
    const config = configSchema.parse({
      hardware: "sim",
      thingsboard: { host: "127.0.0.1", port: 1, accessToken: "x" },
      http: { port: 0, host: "127.0.0.1" },
      dashboard: { password: PASSWORD },
      dataDir: dir,
      devices: [],
    });
    const controller = new Controller({ config, log: benchLogger(), unit: "bench", version: "bench" });
    const child = fork(CLIENTS_FILE, [], {
      execArgv: ["--import", "tsx"],
      stdio: ["ignore", "inherit", "inherit", "ipc"],
    });
    const next = (op: string, timeoutMs = 30_000) =>
      new Promise<Record<string, unknown>>((resolve, reject) => {
        const t = setTimeout(() => reject(new Error(`dashboard clients: no ${op} within ${timeoutMs} ms`)), timeoutMs);
        const on = (m: unknown) => {
          const msg = m as Record<string, unknown>;
          if (msg["op"] === "error") {
            clearTimeout(t);
            child.off("message", on);
            reject(new Error(String(msg["error"])));
          }
          if (msg["op"] === op) {
            clearTimeout(t);
            child.off("message", on);
            resolve(msg);
          }
        };
        child.on("message", on);
      });
    let timer: NodeJS.Timeout | null = null;
    try {
      await controller.start();
      const started = next("started");
      child.send({
        op: "start",
        start: { base: `http://127.0.0.1:${controller.httpPort}`, password: PASSWORD, clients },
      });
      await started;
      let i = 0;
      const emitOne = () => {
        const id = `d${i % devices}`;
        const snap: DeviceSnapshot = {
          id,
          name: `Bench ${id}`,
          profile: "bench",
          kind: "sensor",
          chip: "bme280",
          units: { temperature: "°C" },
          values: { temperature: 20 + (i % 100) / 10, humidity: 40 + (i % 50) / 10 },
          updatedAt: Date.now(),
          health: "ok",
        };
        controller.bus.emit("deviceUpdated", snap);
        i++;
      };
      // 100 updates/s: one every 10 ms, catching up if a tick is late.
      const t0 = Date.now();
      timer = setInterval(() => {
        const due = Math.floor((Date.now() - t0) / 10);
        while (i < due) emitOne();
      }, 10);
      await sleep(1000);
      const reset = next("reset");
      child.send({ op: "reset" });
      await reset;
      const cpu0 = process.cpuUsage();
      const w0 = Date.now();
      const i0 = i;
      await sleep(seconds * 1000);
      const cpu = cpuSecondsSince(cpu0);
      const elapsed = (Date.now() - w0) / 1000;
      const sent = i - i0;
      clearInterval(timer);
      timer = null;
      const reported = next("report");
      child.send({ op: "report" });
      const r = (await reported) as unknown as Report;
      return [
        row(NAME, `${clients} clients: updates emitted/s`, sent / elapsed, "upd/s"),
        row(NAME, `${clients} clients: updates received per client/s`, r.updates / r.clients / elapsed, "upd/s"),
        row(NAME, `${clients} clients: delivery p50`, r.p50, "ms", { note: "includes the 100 ms coalescing window" }),
        row(NAME, `${clients} clients: delivery p99`, r.p99, "ms"),
        row(NAME, `${clients} clients: delivery max`, r.max, "ms"),
        row(NAME, `${clients} clients: server CPU`, (cpu / elapsed) * 100, "% of a core"),
      ];
    } finally {
      if (timer) clearInterval(timer);
      if (child.exitCode === null) child.kill("SIGTERM");
      await controller.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  },
};
