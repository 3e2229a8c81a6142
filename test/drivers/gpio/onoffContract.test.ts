// Issue 15: the GpioChip contract suite runs against every implementation. Here: the real onoff
// adapter, on a fake Pi 4 sysfs tree in a private mount namespace (gpioNamespace.ts), through
// onoffContractChild.ts under `node --test`. The tests that need edge interrupts are skipped in
// the child with their reason and counted here; everything else must pass.
import { after, test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { BOARDS, makeTempDir, writeGpioClassDir } from "./fakeSysfs.ts";
import { namespaceUnavailable, runInGpioNamespace } from "./gpioNamespace.ts";

const childScript = path.join(path.dirname(fileURLToPath(import.meta.url)), "onoffContractChild.ts");
const tmp = makeTempDir("onoff-contract");
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

test(
  "GpioChip contract over the real onoff on a fake Pi 4 sysfs",
  { skip: namespaceUnavailable() ?? false, timeout: 120_000 },
  async () => {
    writeGpioClassDir(path.join(tmp, "gpio"), BOARDS.pi4Kernel66);
    const { code, stdout, stderr } = await runInGpioNamespace(
      tmp,
      ["--import", "tsx", "--test", "--test-reporter=tap", childScript],
      110_000,
    );
    const count = (what: string) => Number(new RegExp(`^# ${what} (\\d+)$`, "m").exec(stdout)?.[1] ?? NaN);
    const skipped = [...stdout.matchAll(/^\s*ok \d+ - (.+) # SKIP/gm)].map((m) => m[1]);
    console.log(
      `# onoff contract: ${count("pass")} passed, ${count("fail")} failed, ${count("skipped")} not run here (edge interrupts): ${skipped.join("; ")}`,
    );
    assert.equal(
      code,
      0,
      `the contract failed over onoff:\n${stdout
        .split("\n")
        .filter((l) => /not ok|Error|expected|actual/.test(l))
        .join("\n")}\n${stderr}`,
    );
    assert.equal(count("fail"), 0);
    assert.equal(count("pass"), 10, "outputs, input reads, close and misuse all ran");
    assert.equal(count("skipped"), 8, "exactly the watch() tests are left to a real kernel");
  },
);
