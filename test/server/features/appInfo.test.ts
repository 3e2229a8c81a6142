// AppInfoReader refreshes slow readings in the background from a synchronous read(); a reading
// that rejects must be logged, not escape as an unhandledRejection (issue 15).
import { test } from "node:test";
import assert from "node:assert/strict";
import { AppInfoReader, type SystemReadings } from "../../../server/features/appInfo.ts";
import { cpuTemperatureC, disk } from "../../../server/util/systemInfo.ts";

test("a failing background refresh is logged (not an unhandled rejection) and read() keeps answering", async () => {
  const errors: string[] = [];
  let settle!: (how: string) => void;
  // Whichever happens first: the error is logged, or it escapes as an unhandled rejection.
  const outcome = new Promise<string>((r) => (settle = r));
  const onUnhandled = (reason: unknown) => settle(`unhandled: ${String(reason)}`);
  process.on("unhandledRejection", onUnhandled);
  try {
    const log = {
      error: (msg: string) => {
        errors.push(msg);
        settle("logged");
      },
    };
    const readings: SystemReadings = {
      cpuTemperatureC,
      memory: () => Promise.reject(new Error("meminfo unreadable")),
      disk,
    };
    const info = new AppInfoReader("1.2.3", "unit", "sim", "/nonexistent", log, readings);
    assert.equal(info.read().version, "1.2.3");
    assert.equal(await outcome, "logged");
    assert.deepEqual(errors, ["refreshing system readings failed: meminfo unreadable"]);
    assert.equal(info.read().unit, "unit");
  } finally {
    process.off("unhandledRejection", onUnhandled);
  }
});
