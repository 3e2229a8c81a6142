import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadConfigFile, loadConfigText, validateConfig } from "../../../server/config/load.ts";
import { configSchema } from "../../../server/config/schema.ts";
import { demoConfig } from "../../../server/demo.ts";

describe("config", () => {
  test("config.example.yaml is valid against the schema", () => {
    const r = loadConfigFile(new URL("../../../config.example.yaml", import.meta.url).pathname, {});
    assert.ok(r.ok, r.ok ? "" : r.errors.join("\n"));
    assert.equal(r.config.devices.length, 3);
    assert.equal(r.config.devices[1]?.kind === "sensor" && r.config.devices[1].address, 0x76);
  });

  test("the demo config is valid", () => {
    const r = validateConfig(demoConfig());
    assert.ok(r.ok, r.ok ? "" : r.errors.join("\n"));
  });

  test("defaults fill an empty file", () => {
    const r = loadConfigText("", {});
    assert.ok(r.ok);
    assert.equal(r.config.http.port, 8080);
    assert.equal(r.config.thingsboard.mqttVersion, 5);
    assert.equal(r.config.thingsboard.flushIntervalMs, 100);
    assert.equal(r.config.outbox.diskFlushMs, 1000);
    assert.equal(r.config.hardware, "auto");
    assert.equal(r.config.dashboard.password, undefined, "no default password");
  });

  test("every error is listed with its path, not just the first", () => {
    const text = [
      "thingsboard: { port: 70000, mqttVersion: 3 }",
      "http: { port: -1 }",
      "bogus: true",
      "devices:",
      "  - { id: a, kind: gpio, outputs: [{ pin: 28 }], inputs: [{ pin: 4, debounceMs: -5 }] }",
      "  - { id: b, kind: sensor, chip: dht22 }",
      "  - { id: c, kind: sensor, chip: bme280, address: 0x99, extra: 1 }",
      "  - { id: 'bad id!', kind: relay }",
    ].join("\n");
    const r = loadConfigText(text, {});
    assert.equal(r.ok, false);
    const errors = r.ok ? [] : r.errors;
    const expect = [
      "thingsboard.port: expected port 1-65535",
      "thingsboard.mqttVersion:",
      "http.port: expected port 0-65535",
      "bogus: unknown setting",
      "devices[0].outputs[0].pin: expected integer 0-27",
      "devices[0].inputs[0].debounceMs: expected integer 0-10000",
      "devices[1].chip:",
      "devices[2].address: expected I2C address 3-119",
      "devices[2].extra: unknown setting",
      "devices[3]",
    ];
    for (const e of expect) assert.ok(errors.some((x) => x.startsWith(e)), `missing "${e}" in:\n${errors.join("\n")}`);
  });

  test("cross-field rules: duplicate ids, names and pins", () => {
    const r = validateConfig({
      devices: [
        { id: "a", kind: "gpio", name: "Same", outputs: [{ pin: 17 }] },
        { id: "a", kind: "gpio", name: "Same", inputs: [{ pin: 17 }] },
      ],
      gateway: { claimButton: { pin: 17 } },
    });
    assert.equal(r.ok, false);
    const errors = r.ok ? [] : r.errors;
    assert.ok(errors.some((e) => e.startsWith('devices[1].id: "a" is already used')));
    assert.ok(errors.some((e) => e.startsWith('devices[1].name: "Same" is already used')));
    assert.ok(errors.some((e) => e.startsWith("devices[1].inputs[0].pin: GPIO 17 is already used")));
    assert.ok(errors.some((e) => e.startsWith("gateway.claimButton.pin: GPIO 17")));
  });

  test("environment variables override the file", () => {
    const r = loadConfigText("thingsboard: { host: a.example, port: 1883 }\nhttp: { port: 8080 }\n", {
      TB_HOST: "tb.local",
      TB_PORT: "8883",
      TB_ACCESS_TOKEN: "tok",
      HARDWARE: "sim",
      HTTP_PORT: "9000",
      DATA_DIR: "/tmp/x",
      DASHBOARD_PASSWORD: "correct horse",
      LOG_LEVEL: "debug",
    });
    assert.ok(r.ok, r.ok ? "" : r.errors.join("\n"));
    const c = r.config;
    assert.deepEqual([c.thingsboard.host, c.thingsboard.port, c.thingsboard.accessToken, c.hardware, c.http.port, c.dataDir, c.dashboard.password, c.log.level], ["tb.local", 8883, "tok", "sim", 9000, "/tmp/x", "correct horse", "debug"]);
  });

  test("bad environment values are errors too, named by variable", () => {
    const r = loadConfigText("", { TB_PORT: "eighty", HARDWARE: "arduino", DASHBOARD_PASSWORD: "short" });
    assert.equal(r.ok, false);
    const errors = r.ok ? [] : r.errors;
    assert.ok(errors.some((e) => e.startsWith("TB_PORT (thingsboard.port): expected an integer")));
    assert.ok(errors.some((e) => e.startsWith("hardware:")));
    assert.ok(errors.some((e) => e.startsWith("dashboard.password: at least 8 characters")));
  });

  test("unreadable and malformed files are reported, never thrown", () => {
    const dir = mkdtempSync(join(tmpdir(), "cfg-"));
    const missing = loadConfigFile(join(dir, "nope.yaml"), {});
    assert.equal(missing.ok, false);
    assert.match(missing.ok ? "" : missing.errors[0]!, /cannot read \(ENOENT\)/);
    const f = join(dir, "bad.yaml");
    writeFileSync(f, "devices: [\n  - {id: a\n");
    const bad = loadConfigFile(f, {});
    assert.equal(bad.ok, false);
    assert.match(bad.ok ? "" : bad.errors[0]!, /YAML/);
    const dup = loadConfigText("http: {port: 1}\nhttp: {port: 2}\n", {});
    assert.equal(dup.ok, false);
    for (const t of ["[1,2]", "just a string", "42"]) assert.equal(loadConfigText(t, {}).ok, false, t);
  });

  test("sensor addresses accept YAML hex and default per chip", () => {
    const r = configSchema.safeParse({ devices: [{ id: "s", kind: "sensor", chip: "sht31" }] });
    assert.ok(r.success);
    assert.equal(r.data.devices[0]?.kind === "sensor" && r.data.devices[0].address, undefined);
  });
});
