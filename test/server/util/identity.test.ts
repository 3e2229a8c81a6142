import { test, describe, after } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { unitIdentity, sanitiseUnitName, serialFromCpuinfo, normaliseSerial } from "../../../server/util/identity.ts";
import { tempDir } from "../../fakes/tempDir.ts";

function fakeProc(files: Record<string, string | Buffer>): string {
  const root = tempDir("identity-");
  for (const [rel, content] of Object.entries(files)) {
    const p = path.join(root, rel);
    fs.mkdirSync(path.dirname(p), { recursive: true });
    fs.writeFileSync(p, content);
  }
  return root;
}

const PI4_CPUINFO = [
  "processor\t: 0",
  "BogoMIPS\t: 108.00",
  "",
  "Hardware\t: BCM2835",
  "Revision\t: c03115",
  "Serial\t\t: 10000000A1B2C3D4",
  "Model\t\t: Raspberry Pi 4 Model B Rev 1.5",
  "",
].join("\n");

describe("unitIdentity", () => {
  const roots: string[] = [];
  const mk = (files: Record<string, string | Buffer>) => {
    const r = fakeProc(files);
    roots.push(r);
    return r;
  };
  after(() => {
    for (const r of roots) fs.rmSync(r, { recursive: true, force: true });
  });

  test("prefers the NUL-terminated device-tree serial and model", () => {
    const procRoot = mk({
      "device-tree/serial-number": "00000000deadbeef\0",
      "device-tree/model": "Raspberry Pi 5 Model B Rev 1.0\0",
      cpuinfo: PI4_CPUINFO,
    });
    const id = unitIdentity({ procRoot, hostname: "raspberrypi" });
    assert.deepEqual(id, {
      unit: "rpi-deadbeef",
      serial: "00000000deadbeef",
      hostname: "raspberrypi",
      model: "Raspberry Pi 5 Model B Rev 1.0",
    });
  });

  test("falls back to the Serial line of /proc/cpuinfo, lower-cased", () => {
    const procRoot = mk({ cpuinfo: PI4_CPUINFO });
    const id = unitIdentity({ procRoot, hostname: "pi" });
    assert.equal(id.serial, "10000000a1b2c3d4");
    assert.equal(id.unit, "rpi-a1b2c3d4");
    assert.equal(id.model, null);
  });

  test("an all-zero serial identifies nothing: the sanitised hostname is used", () => {
    const procRoot = mk({
      "device-tree/serial-number": "0000000000000000\0",
      cpuinfo: "Serial\t\t: 0000000000000000\n",
    });
    const id = unitIdentity({ procRoot, hostname: "shed pi #2" });
    assert.equal(id.serial, null);
    assert.equal(id.unit, "shed-pi-2");
    assert.equal(id.hostname, "shed pi #2");
  });

  test("no proc tree at all (container, macOS) never throws", () => {
    const id = unitIdentity({
      procRoot: path.join(os.tmpdir(), "does-not-exist-identity"),
      hostname: "build-box.local",
    });
    assert.deepEqual(id, { unit: "build-box.local", serial: null, hostname: "build-box.local", model: null });
  });

  test("garbage in the serial file is ignored in favour of cpuinfo", () => {
    const procRoot = mk({ "device-tree/serial-number": "not hex!\0", cpuinfo: PI4_CPUINFO });
    assert.equal(unitIdentity({ procRoot, hostname: "x" }).unit, "rpi-a1b2c3d4");
  });

  test("reads the real /proc without throwing and returns a config-valid unit", () => {
    const id = unitIdentity();
    assert.match(id.unit, /^[A-Za-z0-9_.-]{1,64}$/);
  });
});

describe("identity helpers", () => {
  test("sanitiseUnitName keeps allowed characters, trims dashes, bounds length, never returns empty", () => {
    assert.equal(sanitiseUnitName("greenhouse_01.lan"), "greenhouse_01.lan");
    assert.equal(sanitiseUnitName("  ünit/ä  "), "nit");
    assert.equal(sanitiseUnitName("***"), "rpi-tb-gateway");
    assert.equal(sanitiseUnitName("a".repeat(100)).length, 64);
  });
  test("serialFromCpuinfo returns null without a Serial line", () => {
    assert.equal(serialFromCpuinfo("processor\t: 0\nmodel name\t: Intel\n"), null);
  });
  test("normaliseSerial rejects non-hex and zero", () => {
    assert.equal(normaliseSerial("ABCDEF01"), "abcdef01");
    assert.equal(normaliseSerial("xyz"), null);
    assert.equal(normaliseSerial("00000000"), null);
    assert.equal(normaliseSerial(null), null);
  });
});
