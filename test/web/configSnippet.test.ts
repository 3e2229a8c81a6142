import { test } from "node:test";
import assert from "node:assert/strict";
import { configSnippet } from "../../web/src/configSnippet.ts";
import { loadConfigText } from "../../server/config/load.ts";

test("the dashboard's config line for a scanned chip is a valid device entry", () => {
  for (const [chip, address] of [
    ["sht31", 0x44],
    ["bme280", 0x77],
    ["ads1115", 0x49],
    ["bh1750", 0x5c],
  ] as const) {
    const line = configSnippet({ bus: 1, address, chip, configured: false });
    const r = loadConfigText(`thingsboard: { host: tb.local, accessToken: t }\ndevices:\n  ${line}\n`, {});
    assert.ok(r.ok, `${line}: ${r.ok ? "" : r.errors.join("; ")}`);
    assert.equal(r.config.devices[0]?.kind === "sensor" && r.config.devices[0].address, address);
  }
});
