// The ThingsBoard emulator in its own process, driven over IPC by emulatorProcess.ts. A child
// process keeps the emulator's CPU off the bridge's core (2 cores: one each), so the bridge's
// CPU figures are its own. It counts delivered data points and runs RPC load on request.
import { performance } from "node:perf_hooks";
import { startEmulator, type Emulator, type EmulatorOptions } from "../emulator/index.ts";
import type { ChildReply, ChildRequest, DeliveryCounts } from "./emulatorProtocol.ts";

let emu: Emulator | null = null;
const counts: DeliveryCounts = { points: 0, records: 0, messages: 0, firstTelemetryAt: null, cpuMicros: 0 };

function send(m: ChildReply): void {
  process.send?.(m);
}

async function rpcOnce(
  device: string,
  method: string,
  params: unknown,
  timeoutMs: number,
): Promise<{ ms: number; ok: boolean }> {
  const e = emu as Emulator;
  const t0 = performance.now();
  const r = await e.rpc(device, method, params, { twoWay: true, timeoutMs });
  return { ms: performance.now() - t0, ok: r.status === 200 };
}

async function handle(req: ChildRequest): Promise<unknown> {
  switch (req.op) {
    case "start": {
      const opts: EmulatorOptions = { ...req.options };
      emu = await startEmulator(opts);
      emu.events.on("telemetry", (_name: string, records: Array<{ values: Record<string, unknown> }>) => {
        if (counts.firstTelemetryAt === null) counts.firstTelemetryAt = Date.now();
        counts.records += records.length;
        for (const r of records) counts.points += Object.keys(r.values).length;
      });
      emu.events.on("publish", () => {
        counts.messages++;
      });
      return { mqttPort: emu.mqttPort, httpPort: emu.httpPort };
    }
    case "counts": {
      const c = process.cpuUsage();
      return { ...counts, cpuMicros: c.user + c.system };
    }
    case "rpcSequential": {
      const out: number[] = [];
      let failed = 0;
      for (let i = 0; i < req.n; i++) {
        const r = await rpcOnce(req.device, req.method, req.params, req.timeoutMs);
        if (r.ok) out.push(r.ms);
        else failed++;
      }
      return { latenciesMs: out, failed };
    }
    case "rpcConcurrent": {
      const out: number[] = [];
      let failed = 0;
      let started = 0;
      const worker = async () => {
        while (started < req.n) {
          started++;
          const r = await rpcOnce(req.device, req.method, req.params, req.timeoutMs);
          if (r.ok) out.push(r.ms);
          else failed++;
        }
      };
      await Promise.all(Array.from({ length: req.inFlight }, worker));
      return { latenciesMs: out, failed };
    }
    case "pause":
      await emu?.pause();
      return null;
    case "resume":
      await emu?.resume();
      return null;
    case "stop":
      await emu?.stop();
      emu = null;
      setImmediate(() => process.exit(0));
      return null;
  }
}

process.on("message", (raw: unknown) => {
  const req = raw as ChildRequest;
  handle(req).then(
    (value) => send({ id: req.id, ok: true, value }),
    (err: unknown) => send({ id: req.id, ok: false, error: err instanceof Error ? err.message : String(err) }),
  );
});
process.on("disconnect", () => process.exit(0));
send({ id: 0, ok: true, value: "ready" });
