// Scenario 3, RPC round trip: toggle_gpio on a GPIO device from the emulator (its emulator.rpc,
// the path behind the REST API) through MQTT, the bridge, the dispatcher and the simulated GPIO
// chip, and back. Timed in the emulator child, sequentially and with 100 requests in flight.
import { RELAY_DEVICE, startRig } from "./bridgeRig.ts";
import { atMost, row, summarise, waitUntil, type BenchRow, type Scenario, type ScenarioContext } from "./common.ts";
import { EmulatorProcess } from "./emulatorProcess.ts";

const NAME = "rpc";

export const rpcScenario: Scenario = {
  name: NAME,
  describe: "toggle_gpio round trip emulator -> bridge -> GPIO -> reply, sequential and 100 in flight",
  async run(ctx: ScenarioContext): Promise<BenchRow[]> {
    const emu = await EmulatorProcess.start();
    const rig = await startRig({ port: emu.mqttPort });
    const rows: BenchRow[] = [];
    try {
      rig.connect();
      await waitUntil(() => rig.readyCount > 0, "bridge ready", 10_000);
      const params = { pin: 17 };
      // Warm-up: JIT and the first-call paths.
      await emu.rpcSequential(RELAY_DEVICE, "toggle_gpio", params, 50);
      const sequentialN = ctx.quick ? 200 : 2000;
      ctx.progress(`rpc: ${sequentialN} sequential`);
      const cpu0 = process.cpuUsage();
      const seq = await emu.rpcSequential(RELAY_DEVICE, "toggle_gpio", params, sequentialN);
      const cpuSeq = process.cpuUsage(cpu0);
      const s = summarise(seq.latenciesMs);
      rows.push(row(NAME, "sequential: p50", s.p50, "ms"));
      rows.push(row(NAME, "sequential: p99", s.p99, "ms", atMost(s.p99, 5)));
      rows.push(row(NAME, `sequential: max (${s.n} calls, ${seq.failed} failed)`, s.max, "ms"));
      rows.push(
        row(NAME, "sequential: bridge CPU per call", (cpuSeq.user + cpuSeq.system) / 1000 / Math.max(1, s.n), "cpu-ms"),
      );
      const concurrentN = ctx.quick ? 1000 : 10_000;
      ctx.progress(`rpc: ${concurrentN} with 100 in flight`);
      const t0 = Date.now();
      const par = await emu.rpcConcurrent(RELAY_DEVICE, "toggle_gpio", params, concurrentN, 100);
      const seconds = (Date.now() - t0) / 1000;
      const p = summarise(par.latenciesMs);
      rows.push(row(NAME, "100 in flight: p50", p.p50, "ms"));
      rows.push(row(NAME, "100 in flight: p99", p.p99, "ms"));
      rows.push(row(NAME, `100 in flight: max (${p.n} calls, ${par.failed} failed)`, p.max, "ms"));
      rows.push(row(NAME, "100 in flight: calls/s", p.n / seconds, "rpc/s"));
    } finally {
      await rig.stop();
      await emu.stop();
    }
    return rows;
  },
};
