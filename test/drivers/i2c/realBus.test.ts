import { test } from "node:test";
import assert from "node:assert/strict";
import { openRealI2cBus, realI2cBusAvailable } from "../../../drivers/i2c/realBus.ts";

// A bus that cannot exist on any machine: the adapter must fail at open (i2c-bus itself would
// "open" it and only fail on the first transfer).
test("opening a bus that does not exist rejects at open with ENOENT and the fix", async () => {
  assert.equal(realI2cBusAvailable(250), false);
  await assert.rejects(openRealI2cBus(250), (err: unknown) => {
    assert.equal((err as { code?: unknown }).code, "ENOENT");
    assert.match((err as Error).message, /Cannot open \/dev\/i2c-250 \(ENOENT\): enable I2C/);
    return true;
  });
});

test("an invalid bus number throws before touching the library", async () => {
  await assert.rejects(openRealI2cBus(-1), { message: "Invalid I2C bus number -1" });
});
