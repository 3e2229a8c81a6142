import { test } from "node:test";
import assert from "node:assert/strict";
import { countsToLux, decodeCounts, luxToCounts } from "../../../drivers/sensors/bh1750/bh1750Decode.ts";

test("BH1750 datasheet example: 0x83 0x90 -> 33680 counts -> 28067 lx in H-resolution mode", () => {
  const counts = decodeCounts(Uint8Array.of(0b1000_0011, 0b1001_0000));
  assert.equal(counts, 33680);
  assert.equal(Math.round(countsToLux(counts, "high")), 28067);
});

test("BH1750 lx = counts / 1.2; H-resolution mode 2 has half the step", () => {
  assert.equal(countsToLux(0, "high"), 0);
  assert.equal(countsToLux(12, "high"), 10);
  assert.equal(countsToLux(12, "low"), 10);
  assert.equal(countsToLux(24, "high2"), 10);
  assert.ok(Math.abs(countsToLux(65535, "high") - 54612.5) < 1e-9);
  assert.equal(luxToCounts(10, "high"), 12);
  assert.equal(luxToCounts(10, "high2"), 24);
  assert.equal(luxToCounts(1e6, "high"), 65535);
  assert.equal(luxToCounts(-1, "high"), 0);
});
