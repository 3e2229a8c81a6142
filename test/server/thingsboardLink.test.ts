// ThingsBoardLink: the composition root's rule is that constructors only assign (issue 15). Reading
// the stored credentials, which moves an unreadable file aside, happens in ThingsBoardLink.open.
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { EventBus } from "../../server/eventBus.ts";
import { MemoryDeviceMemory } from "../../server/devices/deviceContext.ts";
import { DeviceRuntime } from "../../server/devices/runtime.ts";
import { DeviceRpcDispatcher } from "../../server/rpc/dispatcher.ts";
import { Outbox } from "../../server/outbox/outbox.ts";
import { ThingsBoardLink, type ThingsBoardLinkOptions } from "../../server/thingsboardLink.ts";
import { configFrom, rawConfig, recordingLogger, tempDir } from "../fakes/appHarness.ts";

function options(dir: string): { o: ThingsBoardLinkOptions; outbox: Outbox } {
  const raw = rawConfig(1, dir);
  raw["thingsboard"] = { host: "127.0.0.1", port: 1, provision: { key: "pkey", secret: "psecret" } };
  const config = configFrom(raw);
  const { log } = recordingLogger();
  const bus = new EventBus();
  const runtime = new DeviceRuntime({ bus, log, memory: new MemoryDeviceMemory() });
  const outbox = Outbox.open({ dir });
  const o: ThingsBoardLinkOptions = {
    bus,
    log,
    tb: config.thingsboard,
    dataDir: dir,
    unit: "u",
    runtime,
    rpc: new DeviceRpcDispatcher(runtime, bus, log),
    outbox,
    gatewayRpc: async () => ({ ok: false, data: { error: "none" } }),
    onGatewayAttributes: () => {},
    onProvisionFailure: () => {},
  };
  return { o, outbox };
}

test("the constructor touches no file; open() reads the credentials and moves an unreadable file aside", () => {
  const dir = tempDir("tblink-");
  const { o, outbox } = options(dir);
  try {
    const file = join(dir, "credentials.json");
    writeFileSync(file, "{ torn");
    new ThingsBoardLink(o, null);
    assert.ok(existsSync(file), "constructing left credentials.json where it was");
    assert.deepEqual(
      readdirSync(dir).filter((f) => f.startsWith("credentials.json.corrupt-")),
      [],
    );

    ThingsBoardLink.open(o);
    assert.ok(!existsSync(file), "open() read it and moved it aside");
    assert.equal(readdirSync(dir).filter((f) => f.startsWith("credentials.json.corrupt-")).length, 1);
  } finally {
    outbox.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
