// The real adapter against the real onoff: a fake gpio class tree is bound over /sys/class/gpio in
// a private mount namespace (unshare -m, root only), and onoffChild.ts drives it there. Skips with
// the reason when the namespace cannot be made (not root, no unshare, no CAP_SYS_ADMIN).
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { BOARDS, makeTempDir, writeGpioClassDir, type FakeChip } from "./fakeSysfs.ts";
import type { ChildReport } from "./onoffChild.ts";
import { namespaceUnavailable, runInGpioNamespace } from "./gpioNamespace.ts";

const childScript = path.join(path.dirname(fileURLToPath(import.meta.url)), "onoffChild.ts");
const CHILD_TIMEOUT_MS = 30_000;

const tmp = makeTempDir("onoff");
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

/** Builds the tree for one board, runs the child against it, returns its report. */
async function runBoard(name: string, chips: readonly FakeChip[], leftoverSysfs: number): Promise<ChildReport> {
  const classDir = path.join(tmp, name);
  const gpioDir = writeGpioClassDir(path.join(classDir, "gpio"), chips);
  // A pin a crashed run left exported, as the kernel shows it.
  const leftover = path.join(gpioDir, `gpio${leftoverSysfs}`);
  fs.mkdirSync(leftover);
  for (const [f, v] of Object.entries({ direction: "in", value: "0", active_low: "0", edge: "none" }))
    fs.writeFileSync(path.join(leftover, f), `${v}\n`);
  const { code, stdout, stderr } = await runInGpioNamespace(
    classDir,
    ["--import", "tsx", childScript],
    CHILD_TIMEOUT_MS,
  );
  assert.equal(code, 0, `child for ${name} failed: ${stderr}`);
  const line = stdout.trim().split("\n").at(-1) ?? "";
  return JSON.parse(line) as ChildReport;
}

function checkBoard(r: ChildReport, label: string, base: number): void {
  assert.deepEqual(r.info, { kind: "sysfs", label, base });
  const n = (bcm: number) => base + bcm;

  // Exported by offset number, never the plain BCM number; BCM 18 was already exported.
  assert.deepEqual(
    r.events.filter((e) => e.op === "export").map((e) => e.n),
    [n(17), n(4)],
  );
  // Active-low relay opened "off": active_low set, line driven high by the direction write itself.
  assert.deepEqual(r.snapshots.relayOpened, { active_low: "1", direction: "high", edge: "none", value: "0" });
  assert.equal(r.snapshots.relayWritten?.value, "1", "logical 1 written to value (the kernel inverts it)");
  assert.equal(r.results.relayRead, 1);
  // Button: input, kernel edge both (filtering happens in EdgeReporter), not inverted.
  assert.deepEqual(r.snapshots.buttonOpened, { active_low: "0", direction: "in", edge: "both", value: "0" });
  assert.equal(r.results.buttonRead, 1);
  assert.match(
    String(r.results.watch),
    new RegExp(`^Cannot watch GPIO 4 \\(sysfs ${n(4)}\\): Operation not permitted$`),
  );
  assert.deepEqual(r.results.openTwice, { error: "GPIO 17 is already open" });
  // The leftover pin is reconfigured in place: output, initially high, edge untouched.
  assert.equal(r.snapshots.leftoverOpened?.direction, "high");
  assert.equal(r.snapshots.leftoverOpened?.active_low, "0");

  // Closing unexports each pin once (the second relay.close() is a no-op), chip.close() the rest.
  assert.deepEqual(
    r.events
      .filter((e) => e.op === "unexport")
      .map((e) => e.n)
      .sort((a, b) => a - b),
    [n(4), n(17), n(18)],
  );
  assert.deepEqual(r.results.readAfterClose, { error: "GPIO 17 is closed" });
  assert.deepEqual(r.results.leftoverAfterChipClose, { error: "GPIO 18 is closed" });
  assert.deepEqual(r.results.dirsLeft, []);
  assert.deepEqual(r.results.wrongBase, {
    error:
      "Cannot open GPIO 17 (sysfs 17): the kernel rejected the number; the GPIO base may be wrong " +
      "(kernel 6.6+ numbering, see onoff#199) [EINVAL]",
  });
}

describe("OnoffGpioChip on onoff against a fake sysfs (private mount namespace)", () => {
  let skipReason: string | undefined;
  before(() => {
    skipReason = namespaceUnavailable();
    if (skipReason) console.log(`# skipping onoff namespace tests: ${skipReason}`);
  });

  test("Pi 4 on kernel 6.6 (pinctrl-bcm2711 at 512): BCM 17 is exported as 529", async (t) => {
    if (skipReason) return t.skip(skipReason);
    const r = await runBoard("pi4", BOARDS.pi4Kernel66, 512 + 18);
    checkBoard(r, "pinctrl-bcm2711", 512);
    assert.ok(r.events.some((e) => e.op === "export" && e.n === 529));
  });

  test("Pi 5 (pinctrl-rp1 at 571): BCM 17 is exported as 588", async (t) => {
    if (skipReason) return t.skip(skipReason);
    const r = await runBoard("pi5", BOARDS.pi5, 571 + 18);
    checkBoard(r, "pinctrl-rp1", 571);
    assert.ok(r.events.some((e) => e.op === "export" && e.n === 588));
  });
});
