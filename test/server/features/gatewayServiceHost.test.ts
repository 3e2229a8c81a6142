// GatewayService on its narrow host interface, with fakes: no Controller, no broker. The attribute
// publishing that runs on every (re)connect had no catch: a failure escaped as an unhandled
// rejection (issue 15). It is logged now.
import { test } from "node:test";
import assert from "node:assert/strict";
import { EventBus } from "../../../server/eventBus.ts";
import type { AppInfo } from "../../../server/events.ts";
import {
  GatewayService,
  type GatewayServiceBridge,
  type GatewayServiceHost,
} from "../../../server/features/gatewayService.ts";
import { configFrom, rawConfig, recordingLogger, tempDir } from "../../fakes/appHarness.ts";

function fakes(appInfo: () => AppInfo): {
  host: GatewayServiceHost;
  bridge: GatewayServiceBridge;
  connect: () => void;
} {
  const ready: Array<() => void> = [];
  const config = configFrom(rawConfig(1, tempDir("gwsvc-")));
  const host: GatewayServiceHost = {
    config,
    bus: new EventBus(),
    runtime: { list: () => [], rename: () => false, markDeleted: () => false },
    hardwareKind: "sim",
    appInfo,
    scanI2c: async () => [],
    outboxStatus: () => null,
    connectionStatus: () => null,
    deadLetters: { count: 0, list: () => [], requeue: () => 0 },
  };
  const bridge: GatewayServiceBridge = {
    onReady: (cb) => {
      ready.push(cb);
    },
    ownTelemetry: () => {},
    claim: async () => {},
    disconnectDevice: async () => {},
    sender: { stats: { acked: 0, pointsAcked: 0 } },
    stats: { messagesReceived: 0, rpcReceived: 0, rpcRejected: 0, malformed: 0, oversized: 0 },
  };
  return { host, bridge, connect: () => ready.forEach((cb) => cb()) };
}

test("a failure while publishing the gateway's attributes on connect is logged, not an unhandled rejection", async () => {
  const { log, records } = recordingLogger();
  let settle!: (how: string) => void;
  const outcome = new Promise<string>((r) => (settle = r));
  const onUnhandled = (reason: unknown) => settle(`unhandled: ${String(reason)}`);
  process.on("unhandledRejection", onUnhandled);
  log.root.sinks.set((r) => {
    if (r.level === "error") settle(r.msg);
  }, "error");
  const { host, bridge, connect } = fakes(() => {
    throw new Error("app info unavailable");
  });
  const service = new GatewayService({ host, bridge, log });
  try {
    service.start();
    connect();
    assert.equal(await outcome, "publishing the gateway's attributes failed: app info unavailable");
    assert.ok(records.some((r) => r.msg === "publishing the gateway's attributes failed: app info unavailable"));
  } finally {
    service.stop();
    process.off("unhandledRejection", onUnhandled);
  }
});

test("gateway_version answers from the host's app info", async () => {
  const { log } = recordingLogger();
  const info = { version: "1.2.3" } as AppInfo;
  const { host, bridge } = fakes(() => info);
  const service = new GatewayService({ host, bridge, log });
  assert.deepEqual(await service.handle("gateway_version", {}), { ok: true, data: { version: "1.2.3" } });
  assert.deepEqual((await service.handle("nope", {})).ok, false);
});
