import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { dht11Frame, dht22Frame, kernelDecode } from "../../../drivers/sensors/dht/dhtFrame.ts";

describe("DHT22 (AM2302) frame, datasheet section 7 example", () => {
  test("65.2 %RH, 35.1 °C -> 02 8C 01 5F, checksum EE", () => {
    assert.deepEqual([...dht22Frame(35.1, 65.2)], [0x02, 0x8c, 0x01, 0x5f, 0xee]);
  });

  test("-10.1 °C sets bit 15: 0x8065", () => {
    const f = dht22Frame(-10.1, 65.2);
    assert.deepEqual([...f.subarray(2, 4)], [0x80, 0x65]);
  });
});

describe("the kernel's dht11_decode()", () => {
  test("decodes the datasheet frames to m°C and m%RH", () => {
    assert.deepEqual(kernelDecode(Uint8Array.of(0x02, 0x8c, 0x01, 0x5f, 0xee)), {
      ok: true,
      milliCelsius: 35100,
      milliRh: 65200,
    });
    assert.deepEqual(kernelDecode(dht22Frame(-10.1, 65.2)), { ok: true, milliCelsius: -10100, milliRh: 65200 });
    assert.deepEqual(kernelDecode(dht22Frame(0, 100)), { ok: true, milliCelsius: 0, milliRh: 100000 });
  });

  test("a DHT11 frame (integers, zero decimal bytes) decodes as whole units", () => {
    assert.deepEqual([...dht11Frame(24, 55)], [55, 0, 24, 0, 79]);
    assert.deepEqual(kernelDecode(dht11Frame(24, 55)), { ok: true, milliCelsius: 24000, milliRh: 55000 });
  });

  test("a bad checksum, or a frame in neither format, is refused (-EIO in the kernel)", () => {
    assert.deepEqual(kernelDecode(Uint8Array.of(0x02, 0x8c, 0x01, 0x5f, 0xef)), {
      ok: false,
      reason: "invalid checksum",
    });
    const r = kernelDecode(Uint8Array.of(55, 3, 24, 0, 82));
    assert.equal(r.ok, false);
  });
});
