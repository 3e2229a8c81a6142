import { test, describe } from "node:test";
import assert from "node:assert/strict";
import {
  celsiusToRaw,
  decodeMeasurement,
  decodeWord,
  encodeWord,
  humidityToRaw,
  rawToCelsius,
  rawToHumidity,
  sht3xCrc8,
} from "../../../drivers/sensors/sht31/sht31Decode.ts";
import { SensorError } from "../../../drivers/sensors/types.ts";

describe("SHT3x CRC-8 (datasheet table 20)", () => {
  test("CRC(0xBEEF) = 0x92, the datasheet example", () => {
    assert.equal(sht3xCrc8(Uint8Array.of(0xbe, 0xef)), 0x92);
  });

  test("a word followed by its CRC leaves a zero remainder (no final XOR)", () => {
    for (const word of [0x0000, 0x6666, 0xbeef, 0xffff, 0x8010]) {
      assert.equal(sht3xCrc8(encodeWord(word)), 0, `word 0x${word.toString(16)}`);
    }
  });
});

describe("SHT3x conversion (datasheet 4.13)", () => {
  test("endpoints: T -45..130 °C, RH 0..100 %", () => {
    assert.equal(rawToCelsius(0), -45);
    assert.equal(rawToCelsius(65535), 130);
    assert.equal(rawToHumidity(0), 0);
    assert.equal(rawToHumidity(65535), 100);
  });

  test("mid-scale values and the inverse used by the chip model", () => {
    assert.ok(Math.abs(rawToCelsius(0x6666) - 25.0) < 0.003); // 26214 counts ~ 25.0 °C
    assert.ok(Math.abs(rawToHumidity(0x8000) - 50.0008) < 0.0001);
    for (const t of [-45, -10.5, 0, 21.37, 129.99])
      assert.ok(Math.abs(rawToCelsius(celsiusToRaw(t)) - t) <= 175 / 65535 / 2);
    for (const h of [0, 33.3, 100]) assert.ok(Math.abs(rawToHumidity(humidityToRaw(h)) - h) <= 100 / 65535 / 2);
    assert.equal(celsiusToRaw(200), 65535);
    assert.equal(humidityToRaw(-5), 0);
  });

  test("decodes a 6-byte frame; a bad CRC is SensorError CRC, never a value", () => {
    const frame = Uint8Array.of(...encodeWord(0x6666), ...encodeWord(0x8000));
    const m = decodeMeasurement(frame);
    assert.ok(Math.abs(m.temperature - 25) < 0.003);
    frame[5] = frame[5]! ^ 0x01;
    assert.throws(
      () => decodeMeasurement(frame),
      (err: unknown) => err instanceof SensorError && err.code === "CRC" && /humidity/.test(err.message),
    );
    assert.throws(
      () => decodeWord(Uint8Array.of(0xbe, 0xef), 0, "status"),
      (err: unknown) => err instanceof SensorError && err.code === "BAD_DATA",
    );
  });
});
