import { describe, test } from "node:test";
import assert from "node:assert/strict";
import {
  celsiusToRegister,
  checkMillidegrees,
  formatW1Slave,
  parseW1Slave,
  registerToCelsius,
  scratchpadLooksValid,
  scratchpadFor,
  w1Crc8,
} from "../../../drivers/sensors/ds18b20/ds18b20Decode.ts";
import { SensorError } from "../../../drivers/sensors/types.ts";

describe("1-Wire CRC-8 (DS18B20 datasheet 'CRC Generation', Maxim AN27)", () => {
  test("AN27's ROM example: family 0x02, serial 0x00000001B81C -> CRC 0xA2", () => {
    assert.equal(w1Crc8(Uint8Array.of(0x02, 0x1c, 0xb8, 0x01, 0x00, 0x00, 0x00)), 0xa2);
  });

  test("the power-on scratchpad 50 05 4b 46 7f ff 0c 10 has CRC 0x1c", () => {
    assert.equal(w1Crc8(Uint8Array.of(0x50, 0x05, 0x4b, 0x46, 0x7f, 0xff, 0x0c, 0x10)), 0x1c);
  });

  test("a scratchpad followed by its CRC leaves remainder 0; all-ones (nobody answering) is 0xc9", () => {
    for (const c of [-55, -0.5, 0, 25.0625, 125]) assert.equal(w1Crc8(scratchpadFor(c)), 0);
    assert.equal(w1Crc8(new Uint8Array(8).fill(0xff)), 0xc9);
  });
});

describe("DS18B20 temperature register (datasheet table 1)", () => {
  const TABLE: Array<[number, number]> = [
    [125, 0x07d0],
    [85, 0x0550],
    [25.0625, 0x0191],
    [10.125, 0x00a2],
    [0.5, 0x0008],
    [0, 0x0000],
    [-0.5, 0xfff8],
    [-10.125, 0xff5e],
    [-25.0625, 0xfe6f],
    [-55, 0xfc90],
  ];
  for (const [celsius, reg] of TABLE) {
    test(`${celsius} °C <-> 0x${reg.toString(16).padStart(4, "0")}`, () => {
      assert.equal(registerToCelsius(reg & 0xff, reg >> 8), celsius);
      assert.equal(celsiusToRegister(celsius), reg);
    });
  }
});

describe("w1_therm's w1_slave format", () => {
  test("parses the kernel's two lines: bytes, crc verdict, t= in m°C", () => {
    const r = parseW1Slave("72 01 4b 46 7f ff 0e 10 57 : crc=57 YES\n72 01 4b 46 7f ff 0e 10 57 t=23125\n");
    assert.equal(r.crcOk, true);
    assert.equal(r.millidegrees, 23125);
    assert.equal(registerToCelsius(r.scratchpad[0]!, r.scratchpad[1]!), 23.125);
    assert.equal(w1Crc8(r.scratchpad.subarray(0, 8)), 0x57);
  });

  test("a NO verdict, negative temperatures, and what the twin prints round-trip", () => {
    assert.equal(
      parseW1Slave("ff ff ff ff ff ff ff ff ff : crc=c9 NO\nff ff ff ff ff ff ff ff ff t=-62\n").crcOk,
      false,
    );
    const pad = scratchpadFor(-10.125);
    const r = parseW1Slave(formatW1Slave(pad, -10125));
    assert.equal(r.crcOk, true);
    assert.equal(r.millidegrees, -10125);
  });

  test("the configuration byte tells a real scratchpad from a shorted line's zeros (which pass the CRC)", () => {
    assert.equal(scratchpadLooksValid(scratchpadFor(21.5)), true);
    assert.equal(scratchpadLooksValid(Uint8Array.of(0x50, 0x05, 0x4b, 0x46, 0x7f, 0xff, 0x0c, 0x10, 0x1c)), true);
    assert.equal(
      scratchpadLooksValid(Uint8Array.of(0x50, 0x05, 0x4b, 0x46, 0x1f, 0xff, 0x0c, 0x10, 0x1c)),
      true,
      "9-bit resolution",
    );
    const zeros = new Uint8Array(9);
    assert.equal(w1Crc8(zeros), 0, "all zeros passes the CRC");
    assert.equal(scratchpadLooksValid(zeros), false);
  });

  test("anything else is BAD_DATA", () => {
    for (const text of ["", "garbage", "72 01 4b 46 7f ff 0e 10 57 : crc=57 YES\n"]) {
      assert.throws(
        () => parseW1Slave(text),
        (err: unknown) => err instanceof SensorError && err.code === "BAD_DATA",
      );
    }
  });
});

describe("what is not a measurement", () => {
  test("85.000 °C (the power-on value) and values outside -55..125 °C are refused", () => {
    assert.throws(
      () => checkMillidegrees(85_000, "probe"),
      (err: unknown) => err instanceof SensorError && err.code === "BAD_DATA" && /power-on/.test(err.message),
    );
    assert.throws(() => checkMillidegrees(127_937, "probe"), /outside/);
    assert.equal(checkMillidegrees(84_937, "probe"), 84.937);
    assert.equal(checkMillidegrees(-55_000, "probe"), -55);
  });
});
