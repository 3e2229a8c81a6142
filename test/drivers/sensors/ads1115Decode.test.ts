import { test } from "node:test";
import assert from "node:assert/strict";
import {
  ADS1115_CONFIG_RESET,
  CONFIG_BITS,
  conversionMs,
  decodeConversion,
  FULL_SCALE_BY_PGA,
  PGA_BY_GAIN,
  rawToVolts,
  singleShotConfig,
  voltsToRaw,
} from "../../../drivers/sensors/ads1115/ads1115Decode.ts";

test("ADS1115 conversion register is big-endian two's complement", () => {
  assert.equal(decodeConversion(Uint8Array.of(0x7f, 0xff)), 32767);
  assert.equal(decodeConversion(Uint8Array.of(0x80, 0x00)), -32768);
  assert.equal(decodeConversion(Uint8Array.of(0xff, 0xff)), -1);
  assert.equal(decodeConversion(Uint8Array.of(0x00, 0x01)), 1);
});

test("ADS1115 raw -> volts per gain: FS / 32768 per LSB (datasheet table 3)", () => {
  const cases: Array<[gain: number, fs: number]> = [
    [2 / 3, 6.144],
    [1, 4.096],
    [2, 2.048],
    [4, 1.024],
    [8, 0.512],
    [16, 0.256],
  ];
  for (const [gain, fs] of cases) {
    const pga = PGA_BY_GAIN.get(gain)!;
    assert.equal(FULL_SCALE_BY_PGA[pga], fs);
    assert.equal(rawToVolts(-32768, pga), -fs);
    assert.ok(Math.abs(rawToVolts(32767, pga) - (fs - fs / 32768)) < 1e-12);
    assert.ok(Math.abs(rawToVolts(1, pga) - fs / 32768) < 1e-15);
  }
  assert.equal(rawToVolts(16000, PGA_BY_GAIN.get(1)!), 2.0); // 125 µV per LSB at ±4.096 V
  assert.equal(rawToVolts(1, PGA_BY_GAIN.get(16)!), 0.0000078125); // 7.8125 µV per LSB at ±0.256 V
  assert.equal(voltsToRaw(2.0, PGA_BY_GAIN.get(1)!), 16000);
  assert.equal(voltsToRaw(9, PGA_BY_GAIN.get(1)!), 32767);
});

test("ADS1115 single-shot config word and the reset value", () => {
  // OS=1, MUX=100 (AIN0), PGA=001, MODE=1, DR=100 (128 SPS), comparator disabled.
  assert.equal(singleShotConfig(0, PGA_BY_GAIN.get(1)!, 128), 0xc383);
  assert.equal(singleShotConfig(3, PGA_BY_GAIN.get(16)!, 860), 0xfbe3);
  // Reset 0x8583: OS=1, AIN0-AIN1, PGA 010 (±2.048 V), single-shot, 128 SPS, comparator off.
  assert.equal((ADS1115_CONFIG_RESET >> CONFIG_BITS.PGA_SHIFT) & 7, 0b010);
  assert.equal(ADS1115_CONFIG_RESET & CONFIG_BITS.MODE_SINGLE_SHOT, CONFIG_BITS.MODE_SINGLE_SHOT);
  assert.equal(conversionMs(128), 7.8125);
});
