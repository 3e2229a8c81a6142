// Scenario 2, latency: from the reading's own ts to the PUBACK for the message carrying it, per
// reading, at 1 Hz x 50 devices (with the default 100 ms flush interval, and with 10 ms to show
// the floor) and at a high fixed load (100k data points/s, the throughput target).
import { TOPIC } from "../../server/gateway/protocol.ts";
import { startRig } from "./bridgeRig.ts";
import {
  atMost,
  row,
  sleep,
  summarise,
  waitUntil,
  type BenchRow,
  type Scenario,
  type ScenarioContext,
} from "./common.ts";
import { EmulatorProcess } from "./emulatorProcess.ts";
import { probeOutbox, readingTimestamps } from "./outboxProbe.ts";
import { PacedProducer } from "./producer.ts";

const NAME = "latency";

export interface LatencyRun {
  samples: number[];
  expected: number;
}

/** Latencies (ms) of every reading produced at `recordsPerSec` over `seconds`, after a short warm-up. */
export async function measureLatency(
  devices: number,
  recordsPerSec: number,
  seconds: number,
  flushIntervalMs: number,
): Promise<LatencyRun> {
  const emu = await EmulatorProcess.start();
  const tsBySeq = new Map<number, number[]>();
  let recording = false;
  const rig = await startRig({
    port: emu.mqttPort,
    flushIntervalMs,
    wrapOutbox: (o) =>
      probeOutbox(o, (seq, topic, payload) => {
        if (recording && topic === TOPIC.gwTelemetry) tsBySeq.set(seq, readingTimestamps(payload));
      }),
  });
  const samples: number[] = [];
  try {
    rig.connect();
    await waitUntil(() => rig.readyCount > 0, "bridge ready", 10_000);
    rig.bridge.sender.onAck = (m) => {
      const now = Date.now();
      // One publish may carry several queued messages (the sender merges consecutive ones).
      for (const seq of m.seqs) {
        const list = tsBySeq.get(seq);
        if (!list) continue;
        tsBySeq.delete(seq);
        for (const ts of list) samples.push(now - ts);
      }
    };
    const warmup = new PacedProducer(rig.bus, devices, recordsPerSec);
    warmup.start();
    await sleep(500);
    warmup.stop();
    recording = true;
    const producer = new PacedProducer(rig.bus, devices, recordsPerSec);
    producer.start();
    await sleep(seconds * 1000);
    producer.stop();
    const expected = producer.emittedPoints / 4;
    await waitUntil(() => samples.length >= expected, `${expected} readings acknowledged`, 30_000);
    return { samples, expected };
  } finally {
    await rig.stop();
    await emu.stop();
  }
}

export const latencyScenario: Scenario = {
  name: NAME,
  describe: "reading ts -> PUBACK per reading: 1 Hz x 50 devices, and 100k data points/s",
  async run(ctx: ScenarioContext): Promise<BenchRow[]> {
    const rows: BenchRow[] = [];
    const cases = [
      { label: "1 Hz x 50 dev, flush 100 ms", devices: 50, rate: 50, flush: 100, seconds: ctx.quick ? 4 : 15 },
      { label: "1 Hz x 50 dev, flush 10 ms", devices: 50, rate: 50, flush: 10, seconds: ctx.quick ? 4 : 15 },
      {
        label: "100k dp/s (500 dev x 50 Hz), flush 100 ms",
        devices: 500,
        rate: 25_000,
        flush: 100,
        seconds: ctx.quick ? 2 : 8,
      },
    ];
    for (const c of cases) {
      ctx.progress(`latency: ${c.label}`);
      const r = await measureLatency(c.devices, c.rate, c.seconds, c.flush);
      const s = summarise(r.samples);
      rows.push(row(NAME, `${c.label}: p50`, s.p50, "ms"));
      rows.push(row(NAME, `${c.label}: p99`, s.p99, "ms", c.rate === 50 ? atMost(s.p99, c.flush + 50) : {}));
      rows.push(row(NAME, `${c.label}: max (${s.n} readings)`, s.max, "ms"));
    }
    return rows;
  },
};
