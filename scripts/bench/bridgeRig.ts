// The appliance's data path on real parts, as the controller wires it: EventBus -> GatewayBridge
// -> Outbox (SQLite in a temp dir) -> Sender -> TbConnection (MQTT.js over TCP) -> emulator, plus
// the device runtime on the simulated GPIO chip so RPCs reach a real device. The connection is
// started separately so a backlog can be built while offline.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SimGpioChip } from "../../drivers/gpio/sim.ts";
import { deviceSchema, type DeviceConfig } from "../../server/config/schema.ts";
import { MemoryDeviceMemory } from "../../server/devices/deviceContext.ts";
import { DeviceRuntime } from "../../server/devices/runtime.ts";
import { EventBus } from "../../server/eventBus.ts";
import { GatewayBridge } from "../../server/gateway/bridge.ts";
import { TbConnection } from "../../server/gateway/connection.ts";
import type { OutboxLike } from "../../server/gateway/sender.ts";
import { Outbox } from "../../server/outbox/outbox.ts";
import { DeviceRpcDispatcher } from "../../server/rpc/dispatcher.ts";
import { createLogger, silentLogger, type Logger } from "../../server/util/logger.ts";
import { BENCH_GATEWAY_TOKEN } from "./emulatorProcess.ts";

export const RELAY_DEVICE = "Bench Relays";

export interface RigOptions {
  port: number;
  dir?: string;
  /** Defaults follow the config schema's defaults (what a user runs). */
  flushIntervalMs?: number;
  maxInflight?: number;
  maxPayloadBytes?: number;
  memoryMaxMessages?: number;
  diskFlushMs?: number;
  /** Wrap the outbox the bridge sees (latency probes). */
  wrapOutbox?: (o: Outbox) => OutboxLike;
}

const RIG_DEVICES: unknown[] = [
  {
    id: "relays",
    kind: "gpio",
    name: RELAY_DEVICE,
    profile: "GPIO Controller",
    outputs: [
      { pin: 17, label: "relay1" },
      { pin: 27, label: "relay2" },
    ],
    inputs: [],
    report: { strategy: "onChange" },
  },
];

export function benchLogger(): Logger {
  return process.env.BENCH_LOG ? createLogger(process.env.BENCH_LOG as "debug") : silentLogger();
}

export type BridgeRig = Awaited<ReturnType<typeof startRig>>;

export async function startRig(o: RigOptions) {
  const log = benchLogger();
  const bus = new EventBus(log);
  const ownDir = o.dir === undefined;
  const dir = o.dir ?? mkdtempSync(join(tmpdir(), "bench-rig-"));
  const outbox = Outbox.open({
    dir,
    diskFlushMs: o.diskFlushMs ?? 1000,
    memoryMaxMessages: o.memoryMaxMessages ?? 2000,
    log,
  });
  const gpio = new SimGpioChip({ log });
  const runtime = new DeviceRuntime({ bus, log, memory: new MemoryDeviceMemory() });
  const configs: DeviceConfig[] = RIG_DEVICES.map((d) => deviceSchema.parse(d));
  await runtime.build(configs, "bench", {
    gpio: async () => gpio,
    openSensor: async () => {
      throw new Error("no sensors in the bench rig");
    },
  });
  const rpc = new DeviceRpcDispatcher(runtime, bus, log);
  const connection = new TbConnection({
    host: "127.0.0.1",
    port: o.port,
    mqttVersion: 5,
    accessToken: BENCH_GATEWAY_TOKEN,
    keepaliveSec: 60,
    reconnectMinMs: 100,
    reconnectMaxMs: 1000,
    connectTimeoutMs: 5000,
    log,
  });
  const bridge = new GatewayBridge({
    bus,
    log,
    connection,
    outbox: o.wrapOutbox ? o.wrapOutbox(outbox) : outbox,
    rpc,
    devices: () => runtime.list().map((d) => ({ name: d.info.name, profile: d.info.profile })),
    flushIntervalMs: o.flushIntervalMs ?? 100,
    maxPayloadBytes: o.maxPayloadBytes ?? 65536,
    maxInflight: o.maxInflight ?? 50,
    attributeRequestTimeoutMs: 5000,
    sessionLimitsTimeoutMs: 2000,
  });
  let ready = 0;
  bridge.onReady(() => {
    ready++;
  });
  bridge.start();
  await runtime.start();
  return {
    bus,
    outbox,
    gpio,
    runtime,
    connection,
    bridge,
    dir,
    get readyCount() {
      return ready;
    },
    connect(): void {
      connection.start();
    },
    async stop(): Promise<void> {
      bridge.stop();
      await runtime.stop();
      outbox.close();
      await connection.stop();
      await gpio.close();
      if (ownDir) rmSync(dir, { recursive: true, force: true });
    },
  };
}
