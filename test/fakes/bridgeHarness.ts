// A real bridge on real parts (EventBus, Outbox on SQLite in a temp dir, TbConnection over TCP,
// the device runtime on the simulated GPIO chip) pointed at a broker or emulator on loopback.
import { mkdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { SimGpioChip } from "../../drivers/gpio/sim.ts";
import { deviceSchema, type DeviceConfig } from "../../server/config/schema.ts";
import { MemoryDeviceMemory } from "../../server/devices/deviceContext.ts";
import { DeviceRuntime } from "../../server/devices/runtime.ts";
import { EventBus } from "../../server/eventBus.ts";
import { GatewayBridge } from "../../server/gateway/bridge.ts";
import type { ParkedDevice } from "../../server/gateway/deviceParking.ts";
import { TbConnection } from "../../server/gateway/connection.ts";
import { Outbox } from "../../server/outbox/outbox.ts";
import { DeviceRpcDispatcher } from "../../server/rpc/dispatcher.ts";
import type { RpcReply } from "../../server/rpc/types.ts";
import { createLogger, silentLogger, type Logger } from "../../server/util/logger.ts";
import { until } from "./waitFor.ts";
import { tempDir } from "./tempDir.ts";

export interface HarnessOptions {
  port: number;
  mqttVersion?: 4 | 5;
  /** null: no access token (X.509 or anonymous). */
  accessToken?: string | null;
  tls?: { enabled: boolean; caFile?: string; certFile?: string; keyFile?: string; rejectUnauthorized: boolean };
  devices?: unknown[];
  flushIntervalMs?: number;
  subscriptions?: string[];
  gatewayRpc?: (method: string, params: unknown) => Promise<RpcReply>;
  onGatewayAttributes?: (data: Record<string, unknown>, deleted: string[]) => void;
  maxPayloadBytes?: number;
  maxInboundBytes?: number;
  rpcLimits?: { inProgress: number; queued: number };
  reconnectMinMs?: number;
  keepaliveIdleMs?: number;
  dir?: string;
  /** Park the messages of devices ThingsBoard refuses (device limit), with this backoff. */
  parking?: { min: number; max: number };
}

export const HARNESS_DEVICES: unknown[] = [
  {
    id: "relays",
    kind: "gpio",
    name: "Test Relays",
    profile: "GPIO Controller",
    outputs: [
      { pin: 17, label: "relay1" },
      { pin: 27, label: "relay2" },
    ],
    inputs: [{ pin: 22, label: "button", debounceMs: 0 }],
    report: { strategy: "every" },
  },
];

export function testLogger(): Logger {
  return process.env.TEST_LOG ? createLogger(process.env.TEST_LOG as "debug") : silentLogger();
}

export async function startBridgeHarness(o: HarnessOptions) {
  const log = testLogger();
  const bus = new EventBus(log);
  const dir = o.dir ?? tempDir("bridge-");
  const outbox = Outbox.open({ dir, diskFlushMs: 200, log });
  let parked: Outbox | null = null;
  if (o.parking) {
    mkdirSync(join(dir, "parked"), { recursive: true });
    parked = Outbox.open({ dir: join(dir, "parked"), diskFlushMs: 200, log });
  }
  const gpio = new SimGpioChip({ log });
  const runtime = new DeviceRuntime({ bus, log, memory: new MemoryDeviceMemory() });
  const configs: DeviceConfig[] = (o.devices ?? HARNESS_DEVICES).map((d) => deviceSchema.parse(d));
  await runtime.build(configs, "unit", {
    gpio: async () => gpio,
    openSensor: async () => {
      throw new Error("no sensors in this harness");
    },
  });
  const rpc = new DeviceRpcDispatcher(runtime, bus, log);
  const connection = new TbConnection({
    host: "127.0.0.1",
    port: o.port,
    mqttVersion: o.mqttVersion ?? 5,
    accessToken: o.accessToken === null ? undefined : (o.accessToken ?? "gw-token"),
    ...(o.tls ? { tls: o.tls } : {}),
    keepaliveSec: 30,
    reconnectMinMs: o.reconnectMinMs ?? 50,
    reconnectMaxMs: 500,
    connectTimeoutMs: 3000,
    ...(o.maxInboundBytes ? { maxInboundBytes: o.maxInboundBytes } : {}),
    log,
    ...(o.subscriptions ? { subscriptions: o.subscriptions } : {}),
  });
  const bridge = new GatewayBridge({
    bus,
    log,
    connection,
    outbox,
    rpc,
    devices: () => runtime.list().map((d) => ({ name: d.info.name, profile: d.info.profile })),
    flushIntervalMs: o.flushIntervalMs ?? 20,
    maxPayloadBytes: o.maxPayloadBytes ?? 65536,
    maxInflight: 20,
    attributeRequestTimeoutMs: 3000,
    sessionLimitsTimeoutMs: 1000,
    ...(o.keepaliveIdleMs ? { keepaliveIdleMs: o.keepaliveIdleMs } : {}),
    ...(parked && o.parking
      ? {
          parkedStore: parked,
          parkingBackoffMs: o.parking,
          onParked: (list: ParkedDevice[]) => runtime.setParked(list),
        }
      : {}),
    ...(o.rpcLimits ? { rpcLimits: o.rpcLimits } : {}),
    ...(o.gatewayRpc ? { gatewayRpc: o.gatewayRpc } : {}),
    ...(o.onGatewayAttributes ? { onGatewayAttributes: o.onGatewayAttributes } : {}),
  });
  let readyCount = 0;
  bridge.onReady(() => readyCount++);
  bridge.start();
  await runtime.start();
  connection.start();
  return {
    bus,
    outbox,
    gpio,
    runtime,
    rpc,
    connection,
    bridge,
    dir,
    log,
    get readyCount() {
      return readyCount;
    },
    /** Wait until the bridge has (re)connected `n` times in total. */
    ready: (n = 1, timeoutMs = 5000) => until(() => readyCount >= n, `bridge ready #${n}`, timeoutMs),
    async stop(keepDir = false) {
      bridge.stop();
      await runtime.stop();
      outbox.close();
      parked?.close();
      await connection.stop();
      await gpio.close();
      if (!keepDir && !o.dir) rmSync(dir, { recursive: true, force: true });
    },
  };
}

export type BridgeHarness = Awaited<ReturnType<typeof startBridgeHarness>>;
