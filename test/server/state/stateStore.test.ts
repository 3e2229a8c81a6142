import { test, describe } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { StateStore } from "../../../server/state/stateStore.ts";
import { createLogger, type Logger } from "../../../server/util/logger.ts";
import { tempDir } from "../../fakes/tempDir.ts";

interface Demo {
  devices: Record<string, { relay: boolean }>;
  password: string | null;
  counter: number;
}
const DEFAULTS: Demo = { devices: {}, password: null, counter: 0 };

function tempFile(): string {
  return path.join(tempDir("state-test-"), "state.json");
}

function capture(): { log: Logger; errors: string[] } {
  const errors: string[] = [];
  const log = createLogger("debug", (line) => {
    const rec = JSON.parse(line) as { level: string; msg: string };
    if (rec.level === "error") errors.push(rec.msg);
  });
  return { log, errors };
}

function asideOf(file: string): string[] {
  const base = path.basename(file);
  return fs
    .readdirSync(path.dirname(file))
    .filter((f) => f.startsWith(`${base}.corrupt-`) || f.startsWith(`${base}.bak.corrupt-`));
}

describe("StateStore", () => {
  test("round trip: first start gets defaults, updates survive close and reopen", async () => {
    const file = tempFile();
    const s = await StateStore.open(file, DEFAULTS, { writeDelayMs: 10_000 });
    assert.equal(s.recovered, null);
    assert.deepEqual(s.data, DEFAULTS);
    s.update((d) => {
      d.devices["relay1"] = { relay: true };
      d.counter = 7;
    });
    await s.close();
    assert.throws(
      () =>
        s.update((d) => {
          d.counter = 8;
        }),
      { message: "StateStore is closed" },
    );
    const again = await StateStore.open(file, { ...DEFAULTS, extra: "new key" } as Demo & { extra: string }, {});
    assert.equal(again.recovered, null);
    assert.deepEqual(again.data, {
      devices: { relay1: { relay: true } },
      password: null,
      counter: 7,
      extra: "new key",
    });
    assert.equal(DEFAULTS.counter, 0, "defaults are never mutated");
    await again.close();
  });

  test("updates within the window coalesce into one whole-file write", async (t) => {
    t.mock.timers.enable({ apis: ["setTimeout"] });
    const file = tempFile();
    const s = await StateStore.open(file, DEFAULTS, { writeDelayMs: 2000 });
    for (let i = 1; i <= 5; i++) {
      s.update((d) => {
        d.counter = i;
      });
      t.mock.timers.tick(300);
    }
    assert.equal(fs.existsSync(file), false, "nothing written before the window closes");
    t.mock.timers.tick(800); // 2000 ms after the first update
    await s.flush(); // waits for the timer's write; nothing left to write
    assert.equal((JSON.parse(fs.readFileSync(file, "utf8")) as Demo).counter, 5);
    assert.equal(fs.existsSync(`${file}.bak`), false, "exactly one write happened (a second would have made a .bak)");
    s.update((d) => {
      d.counter = 6;
    });
    t.mock.timers.tick(2000);
    await s.flush();
    assert.equal(
      (JSON.parse(fs.readFileSync(`${file}.bak`, "utf8")) as Demo).counter,
      5,
      ".bak holds the previous version",
    );
    assert.equal((JSON.parse(fs.readFileSync(file, "utf8")) as Demo).counter, 6);
    await s.close();
  });

  test("a corrupt file falls back to the .bak, loudly, and keeps the corrupt file aside", async () => {
    const file = tempFile();
    const s = await StateStore.open(file, DEFAULTS, { writeDelayMs: 0 });
    s.update((d) => {
      d.counter = 1;
    });
    await s.flush();
    s.update((d) => {
      d.counter = 2;
    });
    await s.close();
    // A power cut on a filesystem that lost the data blocks: zero-filled file.
    fs.writeFileSync(file, Buffer.alloc(64));
    const { log, errors } = capture();
    const again = await StateStore.open(file, DEFAULTS, { log });
    assert.equal(again.recovered, "backup");
    assert.equal(again.data.counter, 1);
    assert.ok(errors.some((m) => m.includes("last known good")));
    assert.equal(asideOf(file).length, 1);
    // The next write must not rotate the corrupt file into .bak.
    again.update((d) => {
      d.counter = 3;
    });
    await again.flush();
    assert.equal((JSON.parse(fs.readFileSync(`${file}.bak`, "utf8")) as Demo).counter, 1);
    await again.close();
  });

  test("an empty file with a missing backup gives defaults", async () => {
    const file = tempFile();
    fs.writeFileSync(file, "");
    const { log, errors } = capture();
    const s = await StateStore.open(file, DEFAULTS, { log });
    assert.equal(s.recovered, "defaults");
    assert.deepEqual(s.data, DEFAULTS);
    assert.ok(errors.length >= 2);
    await s.close();
  });

  test("both corrupt: defaults, and both files are kept aside", async () => {
    const file = tempFile();
    fs.writeFileSync(file, '{"counter": 4, "devi');
    fs.writeFileSync(`${file}.bak`, "[1, 2, 3]");
    const { log, errors } = capture();
    const s = await StateStore.open(file, DEFAULTS, { log });
    assert.equal(s.recovered, "defaults");
    assert.deepEqual(s.data, DEFAULTS);
    const aside = asideOf(file);
    assert.equal(aside.length, 2);
    const contents = aside.map((f) => fs.readFileSync(path.join(path.dirname(file), f), "utf8")).sort();
    assert.deepEqual(contents, ["[1, 2, 3]", '{"counter": 4, "devi']);
    assert.ok(errors.some((m) => m.includes("reset to defaults")));
    await s.close();
  });

  test("a missing file with a good .bak (crash between the two renames) restores the backup", async () => {
    const file = tempFile();
    fs.writeFileSync(`${file}.bak`, JSON.stringify({ ...DEFAULTS, counter: 9 }));
    const s = await StateStore.open(file, DEFAULTS, {});
    assert.equal(s.recovered, "backup");
    assert.equal(s.data.counter, 9);
    await s.close();
  });

  test("mode 0600 applies to the file and its backup, even over an existing 0644 file", async () => {
    const file = tempFile();
    fs.writeFileSync(file, JSON.stringify(DEFAULTS), { mode: 0o644 });
    fs.chmodSync(file, 0o644);
    const s = await StateStore.open(file, DEFAULTS, { mode: 0o600, writeDelayMs: 0 });
    assert.equal(fs.statSync(file).mode & 0o777, 0o600);
    s.update((d) => {
      d.password = "hash";
    });
    await s.flush();
    s.update((d) => {
      d.counter = 1;
    });
    await s.close();
    assert.equal(fs.statSync(file).mode & 0o777, 0o600);
    assert.equal(fs.statSync(`${file}.bak`).mode & 0o777, 0o600);
  });

  test("a failing write rejects flush, keeps the data and does not crash", async () => {
    const dir = tempDir("state-test-");
    const file = path.join(dir, "sub", "state.json");
    const { log, errors } = capture();
    const s = await StateStore.open(file, DEFAULTS, { log, writeDelayMs: 60_000 });
    s.update((d) => {
      d.counter = 5;
    });
    await assert.rejects(s.flush(), { code: "ENOENT" });
    assert.equal(s.data.counter, 5);
    assert.ok(errors.some((m) => m.includes("state write")));
    fs.mkdirSync(path.join(dir, "sub"));
    await s.close(); // still dirty: written now
    assert.equal((JSON.parse(fs.readFileSync(file, "utf8")) as Demo).counter, 5);
  });
});
