import { test, describe } from "node:test";
import assert from "node:assert/strict";
import {
  decodeSht4xMeasurement,
  decodeSht4xSerial,
  sht4xCelsiusToRaw,
  sht4xHumidityToRaw,
  sht4xRawToCelsius,
  sht4xRawToHumidity,
} from "../../../drivers/sensors/sht4x/sht4xDecode.ts";
import { encodeWord, sht3xCrc8 } from "../../../drivers/sensors/sht31/sht31Decode.ts";
import { SensorError } from "../../../drivers/sensors/types.ts";

describe("SHT4x CRC-8 (datasheet 4.4, the SHT3x's)", () => {
  test("CRC(0xBEEF) = 0x92, the datasheet example", () => {
    assert.equal(sht3xCrc8(Uint8Array.of(0xbe, 0xef)), 0x92);
  });
});

describe("SHT4x conversion (datasheet 4.6)", () => {
  test("T = -45 + 175·S/65535: endpoints -45 and 130 °C, 0x6666 ~ 25 °C", () => {
    assert.equal(sht4xRawToCelsius(0), -45);
    assert.equal(sht4xRawToCelsius(65535), 130);
    assert.ok(Math.abs(sht4xRawToCelsius(0x6666) - 25) < 0.003);
  });

  test("RH = -6 + 125·S/65535, cropped to 0..100 % as the datasheet says", () => {
    assert.equal(sht4xRawToHumidity(0), 0, "-6 % crops to 0");
    assert.equal(sht4xRawToHumidity(65535), 100, "119 % crops to 100");
    // S = 3145 gives -6 + 125·3145/65535 = -0.0013 -> 0; S = 3146 gives +0.0006.
    assert.equal(sht4xRawToHumidity(3145), 0);
    assert.ok(Math.abs(sht4xRawToHumidity(0x8000) - 56.5009) < 0.0001, String(sht4xRawToHumidity(0x8000)));
    assert.ok(Math.abs(sht4xRawToHumidity(55574) - 100) < 0.001, "S = 55574 is 100 %RH");
  });

  test("the chip model's inverse round-trips within one count", () => {
    for (const t of [-40, -10.5, 0, 21.37, 125])
      assert.ok(Math.abs(sht4xRawToCelsius(sht4xCelsiusToRaw(t)) - t) <= 175 / 65535 / 2);
    for (const h of [0, 33.3, 99.9])
      assert.ok(Math.abs(sht4xRawToHumidity(sht4xHumidityToRaw(h)) - h) <= 125 / 65535 / 2);
  });

  test("a 6-byte frame decodes; a bad CRC is SensorError CRC", () => {
    const frame = Uint8Array.of(...encodeWord(0x6666), ...encodeWord(0x8000));
    const m = decodeSht4xMeasurement(frame);
    assert.ok(Math.abs(m.temperature - 25) < 0.003);
    frame[2] = frame[2]! ^ 0x80;
    assert.throws(
      () => decodeSht4xMeasurement(frame),
      (err: unknown) => err instanceof SensorError && err.code === "CRC" && /temperature/.test(err.message),
    );
  });

  test("the serial number is two CRC-checked words, most significant first", () => {
    assert.equal(decodeSht4xSerial(Uint8Array.of(...encodeWord(0x0f8d), ...encodeWord(0x2e51))), 0x0f8d2e51);
    assert.equal(decodeSht4xSerial(Uint8Array.of(...encodeWord(0xbeef), ...encodeWord(0x0001))), 0xbeef0001);
    assert.throws(
      () => decodeSht4xSerial(Uint8Array.of(...encodeWord(0xffff), ...encodeWord(0xffff))),
      (err: unknown) => err instanceof SensorError && err.code === "BAD_DATA",
    );
    const bad = Uint8Array.of(...encodeWord(0x0f8d), 0x2e, 0x51, 0x00);
    assert.throws(
      () => decodeSht4xSerial(bad),
      (err: unknown) => err instanceof SensorError && err.code === "CRC",
    );
  });
});
