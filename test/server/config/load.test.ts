import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import {
  applyEnv,
  loadConfigFile,
  loadConfigText,
  MAX_CONFIG_BYTES,
  validateConfig,
} from "../../../server/config/load.ts";
import { configSchema } from "../../../server/config/schema.ts";
import { DEMO_GATEWAY_TOKEN, demoConfig, demoConfigFor } from "../../../server/demo.ts";
import { tempDir } from "../../fakes/tempDir.ts";

describe("config", () => {
  const EXAMPLE = new URL("../../../config.example.yaml", import.meta.url).pathname;

  test("config.example.yaml is refused exactly for its placeholders, and valid once they are filled in", () => {
    const unedited = loadConfigFile(EXAMPLE, {});
    assert.equal(unedited.ok, false, "an unedited example must never start");
    assert.deepEqual(unedited.ok ? [] : unedited.errors.map((e) => e.split(":")[0]), [
      "thingsboard.host",
      "thingsboard.accessToken",
    ]);
    for (const e of unedited.ok ? [] : unedited.errors)
      assert.match(e, /still the placeholder from the example config: put .+ here/);

    const text = readFileSync(EXAMPLE, "utf8")
      .replace("REPLACE_WITH_THINGSBOARD_HOST", "tb.local")
      .replace("REPLACE_WITH_GATEWAY_ACCESS_TOKEN", "A1B2C3");
    const r = loadConfigText(text, {});
    assert.ok(r.ok, r.ok ? "" : r.errors.join("\n"));
    assert.equal(r.config.hardware, "pi", "the example (and so the installed config) is for the Pi, never auto/sim");
    assert.equal(r.config.devices.length, 3);
    assert.equal(r.config.devices[1]?.kind === "sensor" && r.config.devices[1].address, 0x76);
    // Most relay boards are active-low: the example's relays must be off (not on) in their safe state.
    const relays = r.config.devices[0]?.kind === "gpio" ? r.config.devices[0].outputs : [];
    assert.ok(relays.length > 0);
    for (const o of relays) assert.deepEqual([o.activeLow, o.safeState], [true, 0], `relay on GPIO ${o.pin}`);
  });

  test("the demo config is valid", () => {
    const r = validateConfig(demoConfig());
    assert.ok(r.ok, r.ok ? "" : r.errors.join("\n"));
  });

  test("the demo against a real ThingsBoard (TB_HOST) never logs in with the demo token", () => {
    const demoAt = (env: NodeJS.ProcessEnv) => {
      const raw = demoConfigFor(env) as Record<string, unknown>;
      assert.deepEqual(applyEnv(raw, env), []);
      return validateConfig(raw);
    };
    const noToken = demoAt({ TB_HOST: "tb.local" });
    assert.equal(noToken.ok, false);
    assert.match(
      noToken.ok ? "" : noToken.errors.join("\n"),
      /^thingsboard: no credentials: set accessToken \(or TB_ACCESS_TOKEN\)/,
    );
    const withToken = demoAt({ TB_HOST: "tb.local", TB_ACCESS_TOKEN: "real-token" });
    assert.ok(withToken.ok, withToken.ok ? "" : withToken.errors.join("\n"));
    assert.deepEqual(
      [withToken.config.thingsboard.host, withToken.config.thingsboard.accessToken],
      ["tb.local", "real-token"],
    );
    const embedded = demoAt({});
    assert.equal(
      embedded.ok && embedded.config.thingsboard.accessToken,
      DEMO_GATEWAY_TOKEN,
      "the embedded emulator keeps the demo token",
    );
  });

  test("no thingsboard section, no host or no credentials: errors that say what to put there", () => {
    for (const text of ["", "thingsboard:\n", "devices: []\n"]) {
      const r = loadConfigText(text, {});
      assert.equal(r.ok, false, JSON.stringify(text));
      assert.deepEqual(r.ok ? [] : r.errors, [
        "thingsboard: missing: add a thingsboard section with the server's host and the gateway device's accessToken (see config.example.yaml); there is no default server",
      ]);
    }
    const noHost = loadConfigText("thingsboard: { accessToken: t }\n", {});
    assert.match(
      noHost.ok ? "" : noHost.errors.join("\n"),
      /^thingsboard\.host: expected the ThingsBoard server's host name or IP address$/,
    );
    const noCreds = loadConfigText("thingsboard: { host: tb.local }\n", {});
    assert.match(
      noCreds.ok ? "" : noCreds.errors.join("\n"),
      /^thingsboard: no credentials: .*accessToken.*username\/password.*tls\.certFile\/keyFile.*provision/,
    );
    // Each kind of ThingsBoard device credential is enough on its own.
    for (const creds of [
      "accessToken: t",
      "username: u",
      "clientId: c",
      "tls: { enabled: true, certFile: c.pem, keyFile: c.key }",
      "provision: { key: k, secret: s }",
    ]) {
      const r = loadConfigText(`thingsboard: { host: tb.local, ${creds} }\n`, {});
      assert.ok(r.ok, `${creds}: ${r.ok ? "" : r.errors.join("; ")}`);
    }
    // The placeholder is refused from the environment too.
    const env = loadConfigText("thingsboard: { host: tb.local }\n", {
      TB_ACCESS_TOKEN: "REPLACE_WITH_GATEWAY_ACCESS_TOKEN",
    });
    assert.match(env.ok ? "" : env.errors.join("\n"), /^thingsboard\.accessToken: still the placeholder/);
  });

  test("the Pi guide's example config is a complete, valid config with an active-low relay", () => {
    const guide = readFileSync(new URL("../../../docs/raspberry-pi.md", import.meta.url), "utf8");
    const snippet = /An example config for this wiring[^\n]*\n\n```yaml\n([\s\S]*?)```/.exec(guide)?.[1];
    assert.ok(snippet, "the snippet is where the guide says");
    const r = loadConfigText(snippet, {});
    assert.ok(r.ok, r.ok ? "" : r.errors.join("\n"));
    assert.equal(r.config.hardware, "pi");
    const relay = r.config.devices.find((d) => d.kind === "gpio");
    assert.deepEqual(relay?.kind === "gpio" && relay.outputs.map((o) => [o.pin, o.activeLow, o.safeState]), [
      [17, true, 0],
    ]);
  });

  test("every device line in the Pi guide's More sensors and PWM sections is a valid device (issue 17)", () => {
    const guide = readFileSync(new URL("../../../docs/raspberry-pi.md", import.meta.url), "utf8");
    const section = guide.slice(guide.indexOf("### More sensors"), guide.indexOf("## 6."));
    const lines = [...section.matchAll(/```yaml\n([\s\S]*?)```/g)].flatMap((m) =>
      m[1]!.split("\n").filter((l) => l.trim().startsWith("- {")),
    );
    assert.ok(lines.length >= 6, `found ${lines.length} device lines`);
    const r = loadConfigText(
      ["hardware: pi", "thingsboard: { host: tb.local, accessToken: t }", "devices:", ...lines].join("\n"),
      {},
    );
    assert.ok(r.ok, r.ok ? "" : r.errors.join("\n"));
  });

  test("defaults fill a file that names only the server", () => {
    const r = loadConfigText("thingsboard: { host: tb.local, accessToken: t }\n", {});
    assert.ok(r.ok, r.ok ? "" : r.errors.join("\n"));
    assert.equal(r.config.http.port, 8080);
    assert.equal(r.config.thingsboard.port, 1883);
    assert.equal(r.config.thingsboard.mqttVersion, 5);
    assert.equal(r.config.thingsboard.flushIntervalMs, 100);
    assert.equal(r.config.outbox.diskFlushMs, 1000);
    assert.equal(r.config.hardware, "auto", "auto: the Pi, or a refusal (server/hardware.ts), never simulation");
    assert.equal(r.config.dashboard.password, undefined, "no default password");
  });

  test("every error is listed with its path, not just the first", () => {
    const text = [
      "thingsboard: { port: 70000, mqttVersion: 3 }",
      "http: { port: -1 }",
      "bogus: true",
      "devices:",
      "  - { id: a, kind: gpio, outputs: [{ pin: 28 }], inputs: [{ pin: 4, debounceMs: -5 }] }",
      "  - { id: b, kind: sensor, chip: dht33 }",
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
    for (const e of expect)
      assert.ok(
        errors.some((x) => x.startsWith(e)),
        `missing "${e}" in:\n${errors.join("\n")}`,
      );
  });

  test("cross-field rules: duplicate ids, names and pins", () => {
    const r = validateConfig({
      thingsboard: { host: "tb.local", accessToken: "t" },
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
    assert.ok(
      errors.some((e) =>
        e.startsWith(
          "devices[1].inputs[0].pin: GPIO 17 (physical pin 11) is already used by devices[0].outputs[0].pin",
        ),
      ),
    );
    assert.ok(
      errors.some((e) =>
        e.startsWith("gateway.claimButton.pin: GPIO 17 (physical pin 11) is already used by devices[0].outputs[0].pin"),
      ),
    );
  });

  test("a GPIO on a pin the I2C bus in use holds is refused, naming the physical pin (issue 14)", () => {
    const thingsboard = { host: "tb.local", accessToken: "t" };
    const r = validateConfig({
      thingsboard,
      devices: [
        { id: "io", kind: "gpio", outputs: [{ pin: 4 }, { pin: 3 }], inputs: [{ pin: 14 }] },
        { id: "env", kind: "sensor", chip: "bme280", bus: 1 },
      ],
    });
    assert.deepEqual(r.ok ? [] : r.errors, [
      "devices[0].outputs[1].pin: GPIO 3 (physical pin 5) belongs to I2C1 SCL, in use by devices[1] (env)",
    ]);
    // Without an I2C sensor the pins are free GPIOs; the UART is not in the config, so GPIO 14 is allowed here
    // (the header view marks it when the Pi's UART is on).
    assert.equal(
      validateConfig({
        thingsboard,
        devices: [{ id: "io", kind: "gpio", outputs: [{ pin: 2 }, { pin: 3 }, { pin: 14 }] }],
      }).ok,
      true,
    );
  });

  test("environment variables override the file", () => {
    const r = loadConfigText(
      "thingsboard: { host: a.example, port: 1883, accessToken: file-token }\nhttp: { port: 8080 }\n",
      {
        TB_HOST: "tb.local",
        TB_PORT: "8883",
        TB_ACCESS_TOKEN: "tok",
        HARDWARE: "sim",
        HTTP_PORT: "9000",
        DATA_DIR: "/tmp/x",
        DASHBOARD_PASSWORD: "correct horse",
        LOG_LEVEL: "debug",
      },
    );
    assert.ok(r.ok, r.ok ? "" : r.errors.join("\n"));
    const c = r.config;
    assert.deepEqual(
      [
        c.thingsboard.host,
        c.thingsboard.port,
        c.thingsboard.accessToken,
        c.hardware,
        c.http.port,
        c.dataDir,
        c.dashboard.password,
        c.log.level,
      ],
      ["tb.local", 8883, "tok", "sim", 9000, "/tmp/x", "correct horse", "debug"],
    );
  });

  test("bad environment values are errors too, named by variable", () => {
    const r = loadConfigText("thingsboard: { host: tb.local, accessToken: t }\n", {
      TB_PORT: "eighty",
      HARDWARE: "arduino",
      DASHBOARD_PASSWORD: "short",
    });
    assert.equal(r.ok, false);
    const errors = r.ok ? [] : r.errors;
    assert.ok(errors.some((e) => e.startsWith("TB_PORT (thingsboard.port): expected an integer")));
    assert.ok(errors.some((e) => e.startsWith("hardware:")));
    assert.ok(errors.some((e) => e.startsWith("dashboard.password: at least 8 characters")));
  });

  test("a collection used as a key is an unknown setting, not a warning of the yaml package on stderr", async () => {
    const warnings: Error[] = [];
    const onWarning = (w: Error) => warnings.push(w);
    process.on("warning", onWarning);
    try {
      const r = loadConfigText("thingsboard: {host: a, accessToken: t}\n? [a, b]\n: c\n", {});
      assert.equal(r.ok, false);
      assert.ok(!r.ok && r.errors.some((e) => e.endsWith(": unknown setting")), r.ok ? "" : r.errors.join("; "));
      await new Promise((resolve) => setImmediate(resolve)); // process warnings are emitted on the next tick
      assert.deepEqual(
        warnings.map((w) => w.message),
        [],
      );
    } finally {
      process.off("warning", onWarning);
    }
  });

  test("unreadable and malformed files are reported, never thrown", () => {
    const dir = tempDir("cfg-");
    const missing = loadConfigFile(join(dir, "nope.yaml"), {});
    assert.equal(missing.ok, false);
    assert.deepEqual(missing, {
      ok: false,
      unreadable: true,
      errors: [
        `The config file ${join(dir, "nope.yaml")} does not exist. Start from the example: cp config.example.yaml ${join(dir, "nope.yaml")} and edit it (or run without --config for the demo).`,
      ],
    });
    const f = join(dir, "bad.yaml");
    writeFileSync(f, "devices: [\n  - {id: a\n");
    const bad = loadConfigFile(f, {});
    assert.equal(bad.ok, false);
    assert.match(bad.ok ? "" : bad.errors[0]!, /YAML/);
    const dup = loadConfigText("thingsboard: {host: a, accessToken: t}\nhttp: {port: 1}\nhttp: {port: 2}\n", {});
    assert.deepEqual(dup, {
      ok: false,
      errors: ['config, line 3, column 1: YAML syntax: Map keys must be unique: "http: {port: 2}"'],
    });
    // One error, the first, with its line: not one per parser error, each ending in a colon (issue 13).
    // An unclosed quote: the line that opened it, not the end of the file where the parser noticed.
    const quote = loadConfigText('thingsboard:\n  host: "tb.local\n  accessToken: abc\n', {}, "q.yaml");
    assert.deepEqual(quote, {
      ok: false,
      errors: ['q.yaml, line 2: YAML syntax: Missing closing "quote: "  host: \\"tb.local"'],
    });
    const indent = loadConfigText("thingsboard:\n  host: tb.local\n   port: 1883\n", {}, "c.yaml");
    assert.deepEqual(indent, {
      ok: false,
      errors: [
        'c.yaml, line 2, column 9: YAML syntax: Nested mappings are not allowed in compact mappings: "  host: tb.local" (fix this first: the 1 other YAML error reported after it may follow from it)',
      ],
    });
    for (const t of ["[1,2]", "just a string", "42"]) assert.equal(loadConfigText(t, {}).ok, false, t);
  });

  test("sensor addresses accept YAML hex and default per chip", () => {
    const r = configSchema.safeParse({
      thingsboard: { host: "tb.local", accessToken: "t" },
      devices: [{ id: "s", kind: "sensor", chip: "sht31" }],
    });
    assert.ok(r.success);
    assert.equal(r.data.devices[0]?.kind === "sensor" && r.data.devices[0].address, undefined);
  });

  test("1-Wire and DHT sensors: options checked by their drivers, no I2C address, pins on the header (issue 17)", () => {
    const tb = { host: "tb.local", accessToken: "t" };
    const ok = validateConfig({
      thingsboard: tb,
      devices: [
        { id: "tank", kind: "sensor", chip: "ds18b20", options: { romId: "28-0316a2791f2a" } },
        { id: "pipe", kind: "sensor", chip: "ds18b20", options: { romId: "28-031997791b05", pin: 4 } },
        { id: "room", kind: "sensor", chip: "dht22", options: { pin: 17 } },
      ],
    });
    assert.deepEqual(ok.ok ? [] : ok.errors, [], "several probes share the 1-Wire pin");
    const bad = validateConfig({
      thingsboard: tb,
      devices: [
        { id: "tank", kind: "sensor", chip: "ds18b20", address: 0x48, options: { romId: "28-xyz" } },
        { id: "room", kind: "sensor", chip: "dht22", options: { pin: 4 } },
        { id: "io", kind: "gpio", outputs: [{ pin: 17 }] },
        { id: "hall", kind: "sensor", chip: "dht11", intervalSec: 1, options: { pin: 17, gain: 2 } },
      ],
    });
    assert.deepEqual(bad.ok ? [] : bad.errors, [
      'devices[0].options: Invalid option romId for ds18b20: expected "28-" and 12 hex digits as under /sys/bus/w1/devices, got "28-xyz"',
      "devices[0].address: a ds18b20 is not on I2C; the kernel finds it (options.pin is the overlay's GPIO)",
      'devices[3].options: Unknown option "gain" for dht11; expected one of: pin, iioDevice',
      "devices[3].intervalSec: a dht11 measures at most every 2 s",
      "devices[1].options.pin: GPIO 4 (physical pin 7) belongs to the 1-Wire bus, in use by devices[0].options.pin (tank)",
      "devices[3].options.pin: GPIO 17 (physical pin 11) is already used by devices[2].outputs[0].pin",
    ]);
  });
});

test("an oversized config file is refused with a clear message, not read whole (issue 12: 65 MB ran V8 out of memory)", () => {
  const dir = tempDir("cfg-big-");
  try {
    const file = join(dir, "config.yaml");
    const line = "# padding padding padding padding padding padding padding padding padding\n";
    writeFileSync(file, `version: 1\n${line.repeat(Math.ceil((65 * 1024 * 1024) / line.length))}`);
    const r = loadConfigFile(file);
    assert.equal(r.ok, false);
    if (!r.ok) assert.match(r.errors.join("\n"), /is too large \(\d+ bytes\): a config file is at most 1024 KiB/);
    // Just under the limit is read as usual.
    writeFileSync(
      file,
      `version: 1\nunit: {name: ok}\n${line.repeat(Math.floor((MAX_CONFIG_BYTES - 100) / line.length))}`,
    );
    const ok = loadConfigFile(file);
    assert.ok(!ok.ok || ok.config.unit.name === "ok");
    if (!ok.ok) assert.doesNotMatch(ok.errors.join("\n"), /too large/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
