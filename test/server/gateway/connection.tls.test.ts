// TLS with a CA file and X.509 client certificates, against a real Mosquitto that requires a
// client certificate and takes the certificate's CN as the identity.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, rmSync } from "node:fs";
import mqtt, { type MqttClient } from "mqtt";
import { startMosquitto, type Mosquitto } from "../../fakes/mosquitto.ts";
import { makePki, type Pki } from "../../fakes/pki.ts";
import { startBridgeHarness, type BridgeHarness } from "../../fakes/bridgeHarness.ts";
import { until } from "../../fakes/waitFor.ts";

describe("TLS and X.509 client certificates (Mosquitto)", () => {
  let pki: Pki;
  let broker: Mosquitto;
  let server: MqttClient;
  const harnesses: BridgeHarness[] = [];
  const telemetry: string[] = [];

  before(async () => {
    pki = makePki();
    broker = await startMosquitto({
      allowAnonymous: false,
      extraConfig: [
        `cafile ${pki.caFile}`,
        `certfile ${pki.serverCert}`,
        `keyfile ${pki.serverKey}`,
        "require_certificate true",
        "use_identity_as_username true",
      ].join("\n"),
    });
    // The test plays the server side with its own client certificate.
    server = await mqtt.connectAsync({
      host: "127.0.0.1",
      port: broker.port,
      protocol: "mqtts",
      ca: readFileSync(pki.caFile),
      cert: readFileSync(pki.clientCert),
      key: readFileSync(pki.clientKey),
      protocolVersion: 5,
    });
    server.on("message", (t, p) => t === "v1/gateway/telemetry" && telemetry.push(p.toString()));
    await server.subscribeAsync("v1/gateway/telemetry", { qos: 1 });
  });

  after(async () => {
    for (const h of harnesses) await h.stop();
    await server?.endAsync();
    await broker?.stop();
    rmSync(pki.dir, { recursive: true, force: true });
  });

  test("connects with the CA file and a client certificate, and delivers telemetry", async () => {
    const h = await startBridgeHarness({
      port: broker.port,
      accessToken: null,
      tls: {
        enabled: true,
        caFile: pki.caFile,
        certFile: pki.clientCert,
        keyFile: pki.clientKey,
        rejectUnauthorized: true,
      },
    });
    harnesses.push(h);
    await h.ready(1, 8000);
    h.bus.emit("telemetry", "Test Relays", { ts: 1_700_000_000_000, values: { secure: true } });
    await until(() => telemetry.some((p) => p.includes('"secure":true')), "telemetry over TLS");
  });

  test("without a client certificate the broker refuses, and the supervisor keeps retrying with an error status", async () => {
    const h = await startBridgeHarness({
      port: broker.port,
      accessToken: null,
      reconnectMinMs: 100,
      tls: { enabled: true, caFile: pki.caFile, rejectUnauthorized: true },
    });
    harnesses.push(h);
    await until(() => h.connection.status().reconnects >= 2, "two failed attempts", 8000);
    assert.notEqual(h.connection.status().state, "connected");
    assert.ok(h.connection.status().lastError, "error recorded");
    assert.equal(h.readyCount, 0);
  });

  test("a server certificate from an unknown CA is refused (no silent insecure fallback)", async () => {
    const h = await startBridgeHarness({
      port: broker.port,
      accessToken: null,
      reconnectMinMs: 100,
      tls: {
        enabled: true,
        caFile: pki.otherCaFile,
        certFile: pki.clientCert,
        keyFile: pki.clientKey,
        rejectUnauthorized: true,
      },
    });
    harnesses.push(h);
    await until(() => h.connection.status().reconnects >= 1, "a failed attempt", 8000);
    assert.match(h.connection.status().lastError ?? "", /certificate|self.signed|unable to verify/i);
    assert.equal(h.readyCount, 0);
  });
});
