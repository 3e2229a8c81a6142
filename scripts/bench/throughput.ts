// Scenario 1, telemetry throughput: 1, 50 and 500 simulated devices produce readings as fast as
// the pipeline takes them through a real bridge + outbox + connection to the emulator child;
// then a bare MQTT.js client publishes the very payloads the bridge built (the ceiling).
import { performance } from "node:perf_hooks";
import { TOPIC } from "../../server/gateway/protocol.ts";
import { runBareClient, type BareResult, type CapturedMessage } from "./bareClient.ts";
import { startRig } from "./bridgeRig.ts";
import {
  atLeast,
  cpuSecondsSince,
  row,
  sleep,
  waitUntil,
  type BenchRow,
  type Scenario,
  type ScenarioContext,
} from "./common.ts";
import { EmulatorProcess } from "./emulatorProcess.ts";
import { probeOutbox } from "./outboxProbe.ts";
import { TelemetryProducer } from "./producer.ts";

const NAME = "throughput";
const CAPTURE = 300;
const WINDOW = 50;

export interface ThroughputRun {
  devices: number;
  ackedPerSec: number;
  deliveredPerSec: number;
  bridgeCpuPer100k: number;
  emulatorCpuPer100k: number;
  bare: BareResult;
}

export async function measureThroughput(
  devices: number,
  warmupMs: number,
  measureMs: number,
  maxInPipelinePoints = 500_000,
): Promise<ThroughputRun> {
  const emu = await EmulatorProcess.start();
  const captured: CapturedMessage[] = [];
  let capturing = false;
  const rig = await startRig({
    port: emu.mqttPort,
    maxInflight: WINDOW,
    wrapOutbox: (o) =>
      probeOutbox(o, (_seq, topic, payload, points) => {
        if (capturing && topic === TOPIC.gwTelemetry && captured.length < CAPTURE)
          captured.push({ topic, payload, points });
      }),
  });
  let rigStopped = false;
  try {
    rig.connect();
    await waitUntil(() => rig.readyCount > 0, "bridge ready", 10_000);
    const sender = rig.bridge.sender;
    const producer = new TelemetryProducer(rig.bus, () => sender.stats.pointsAcked, { devices, maxInPipelinePoints });
    sender.onAck = () => producer.wake();
    producer.start();
    await sleep(warmupMs);
    capturing = true;
    const c0 = await emu.counts();
    const a0 = sender.stats.pointsAcked;
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    await sleep(measureMs);
    const a1 = sender.stats.pointsAcked;
    const cpu = cpuSecondsSince(cpu0);
    const seconds = (performance.now() - t0) / 1000;
    const c1 = await emu.counts();
    producer.stop();
    // Let what is in flight land so the next run starts clean.
    await waitUntil(() => sender.stats.pointsAcked >= producer.emittedPoints, "pipeline drained", 30_000);
    const acked = a1 - a0;
    const delivered = c1.points - c0.points;
    // The bare client logs in with the same gateway token: the bridge must be gone first, or
    // the two would take over each other's session.
    await rig.stop();
    rigStopped = true;
    const bare = await runBareClient(emu.mqttPort, captured, WINDOW, Math.min(warmupMs, 500), measureMs);
    return {
      devices,
      ackedPerSec: acked / seconds,
      deliveredPerSec: delivered / seconds,
      bridgeCpuPer100k: (cpu / acked) * 1e5,
      emulatorCpuPer100k: ((c1.cpuMicros - c0.cpuMicros) / 1e6 / delivered) * 1e5,
      bare,
    };
  } finally {
    if (!rigStopped) await rig.stop();
    await emu.stop();
  }
}

export const throughputScenario: Scenario = {
  name: NAME,
  describe: "data points/s through bridge+outbox+MQTT to the emulator child, vs a bare MQTT.js client",
  async run(ctx: ScenarioContext): Promise<BenchRow[]> {
    const rows: BenchRow[] = [];
    const warmup = ctx.quick ? 500 : 1500;
    const measure = ctx.quick ? 1500 : 6000;
    for (const devices of [1, 50, 500]) {
      ctx.progress(`throughput: ${devices} devices`);
      const r = await measureThroughput(devices, warmup, measure);
      const label = `${devices} dev`;
      const ratio = r.ackedPerSec / r.bare.pointsPerSec;
      rows.push(row(NAME, `${label}: points/s acked`, r.ackedPerSec, "dp/s", atLeast(r.ackedPerSec, 100_000)));
      rows.push(row(NAME, `${label}: points/s delivered to emulator`, r.deliveredPerSec, "dp/s"));
      rows.push(row(NAME, `${label}: bare MQTT.js ceiling, same payloads`, r.bare.pointsPerSec, "dp/s"));
      rows.push(row(NAME, `${label}: ratio to ceiling`, ratio, "x", atLeast(Number(ratio.toFixed(3)), 0.8)));
      rows.push(row(NAME, `${label}: bridge process CPU per 100k points`, r.bridgeCpuPer100k, "cpu-s"));
      rows.push(row(NAME, `${label}: bare client CPU per 100k points`, r.bare.cpuSecPer100k, "cpu-s"));
      rows.push(row(NAME, `${label}: emulator child CPU per 100k points`, r.emulatorCpuPer100k, "cpu-s"));
    }
    return rows;
  },
};
