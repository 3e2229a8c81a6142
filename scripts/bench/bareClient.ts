// The ceiling: a bare MQTT.js client publishing given payloads with QoS 1 inside the same
// in-flight window the bridge uses, counting acknowledged data points. No outbox, no builder.
import mqtt from "mqtt";
import { performance } from "node:perf_hooks";
import { cpuSecondsSince } from "./common.ts";
import { BENCH_GATEWAY_TOKEN } from "./emulatorProcess.ts";

export interface CapturedMessage {
  topic: string;
  payload: string;
  points: number;
}

export interface BareResult {
  pointsPerSec: number;
  cpuSecPer100k: number;
  points: number;
}

export async function runBareClient(
  port: number,
  messages: readonly CapturedMessage[],
  window: number,
  warmupMs: number,
  measureMs: number,
): Promise<BareResult> {
  if (messages.length === 0) throw new Error("runBareClient: no payloads to publish");
  const client = await mqtt.connectAsync({
    host: "127.0.0.1",
    port,
    protocolVersion: 5,
    username: BENCH_GATEWAY_TOKEN,
    reconnectPeriod: 0,
    clean: true,
  });
  let acked = 0;
  let inFlight = 0;
  let i = 0;
  let running = true;
  let failure: Error | null = null;
  const pump = (): void => {
    while (running && inFlight < window) {
      const m = messages[i++ % messages.length] as CapturedMessage;
      inFlight++;
      client.publish(m.topic, m.payload, { qos: 1 }, (err) => {
        inFlight--;
        if (err) failure ??= err;
        else acked += m.points;
        pump();
      });
    }
  };
  pump();
  await new Promise((r) => setTimeout(r, warmupMs));
  const a0 = acked;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  await new Promise((r) => setTimeout(r, measureMs));
  const points = acked - a0;
  const seconds = (performance.now() - t0) / 1000;
  const cpu = cpuSecondsSince(cpu0);
  running = false;
  await client.endAsync();
  if (failure) throw new Error(`bare client publish failed: ${(failure as Error).message}`);
  return { pointsPerSec: points / seconds, cpuSecPer100k: (cpu / points) * 1e5, points };
}
