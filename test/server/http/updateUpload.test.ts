// POST /api/update/upload (server/http/updateUpload.ts): a release package uploaded by an admin
// on the dashboard goes through the real OtaUpdater's ThingsBoard path from the checksum on
// (server/features/ota/applyPackage.ts): apply.json, then the restart request. Real server on
// port 0, real packages (test/fakes/otaPackage.ts builds them as scripts/package.mjs lays them out).
import { after, afterEach, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { request } from "node:http";
import { join } from "node:path";
import { execFileSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { buildPackage } from "../../fakes/otaPackage.ts";
import { until } from "../../fakes/waitFor.ts";
import { testUpdater, type TestUpdater } from "../../fakes/otaLink.ts";
import { login, startDashboard, VIEWER_PASSWORD, type Running } from "./harness.ts";
import { tempDir } from "../../fakes/tempDir.ts";

interface Answer {
  status: number;
  body: Record<string, unknown>;
}

async function upload(
  run: Running,
  cookie: string | undefined,
  data: Buffer,
  o: { sha256?: string; type?: string; origin?: string } = {},
): Promise<Answer> {
  const headers: Record<string, string> = {
    "content-type": o.type ?? "application/gzip",
    origin: o.origin ?? run.base,
  };
  if (cookie) headers["cookie"] = cookie;
  const q = o.sha256 === undefined ? "" : `?sha256=${o.sha256}`;
  const res = await fetch(`${run.base}/api/update/upload${q}`, {
    method: "POST",
    headers,
    body: data,
    signal: AbortSignal.timeout(20_000),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

/** Sends the headers and `first` bytes of a `declared`-byte upload, then holds the request open. */
function partialUpload(
  run: Running,
  cookie: string,
  declared: number,
  first: Buffer,
): { answer: Promise<Answer>; abort(): void } {
  const url = new URL(`${run.base}/api/update/upload`);
  const req = request(url, {
    method: "POST",
    headers: {
      "content-type": "application/gzip",
      "content-length": String(declared),
      cookie,
      origin: run.base,
    },
  });
  const answer = new Promise<Answer>((resolve, reject) => {
    req.on("response", (res) => {
      let text = "";
      res.on("data", (c: Buffer) => (text += c.toString("utf8")));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) as Record<string, unknown> }));
    });
    req.on("error", reject);
  });
  req.write(first);
  return { answer, abort: () => req.destroy() };
}

/** A tarball whose manifest.json is JSON but not a whole manifest. */
function packageWithManifest(manifest: unknown): Buffer {
  const dir = tempDir("ota-badpkg-");
  writeFileSync(join(dir, "manifest.json"), JSON.stringify(manifest));
  execFileSync("tar", ["-czf", join(dir, "pkg.tar.gz"), "-C", dir, "./manifest.json"]);
  return readFileSync(join(dir, "pkg.tar.gz"));
}

function otaFiles(dataDir: string): string[] {
  return readdirSync(join(dataDir, "ota")).sort();
}

const sha = (b: Buffer): string => createHash("sha256").update(b).digest("hex");
const other = process.arch === "arm64" ? "x64" : "arm64";

describe("dashboard package upload: who may", () => {
  let run: Running;
  let unit: TestUpdater;
  let dataDir: string;
  before(async () => {
    dataDir = tempDir("tbgw-upload-");
    unit = testUpdater(dataDir);
    run = await startDashboard({
      dataDir,
      dashboard: { password: "correct horse", viewerPassword: VIEWER_PASSWORD },
      otaUpload: unit.updater,
    });
  });
  after(() => run.close());

  test("without a session: 401; as viewer: 403; from a foreign origin: 403; nothing received", async () => {
    const pkg = buildPackage({ version: "2.0.0" });
    const anon = await upload(run, undefined, pkg);
    assert.deepEqual([anon.status, anon.body["error"]], [401, "log in first"]);
    const viewer = await upload(run, await login(run.base, VIEWER_PASSWORD), pkg);
    assert.deepEqual(
      [viewer.status, viewer.body["error"]],
      [403, "forbidden: the viewer role cannot update the software"],
    );
    const admin = await login(run.base);
    const foreign = await upload(run, admin, pkg, { origin: "http://evil.example" });
    assert.deepEqual([foreign.status, foreign.body["error"]], [403, "origin not allowed"]);
    const form = await upload(run, admin, pkg, { type: "multipart/form-data; boundary=x" });
    assert.equal(form.status, 415);
    assert.deepEqual(otaFiles(dataDir), []);
    assert.deepEqual(unit.link.states(), []);
    assert.equal(unit.restarts(), 0);
  });
});

describe("dashboard package upload: refusals leave nothing to apply", () => {
  let run: Running;
  let unit: TestUpdater;
  let dataDir: string;
  let admin: string;
  let free = Number.MAX_SAFE_INTEGER;
  before(async () => {
    dataDir = tempDir("tbgw-upload-");
    unit = testUpdater(dataDir, { freeBytes: async () => free });
    run = await startDashboard({ dataDir, gateway: { ota: { maxUploadMb: 1 } }, otaUpload: unit.updater });
    admin = await login(run.base);
  });
  afterEach(() => {
    free = Number.MAX_SAFE_INTEGER;
    // Nothing the guard could apply, and no leftover of the upload.
    for (const f of ["apply.json", "package.tar.gz", "upload.part"])
      assert.equal(existsSync(join(dataDir, "ota", f)), false, `${f} left behind`);
    assert.equal(unit.restarts(), 0);
  });
  after(() => run.close());

  const refusedWith = async (data: Buffer, status: number, error: RegExp | string, sha256?: string) => {
    const before = unit.link.states().length;
    const r = await upload(run, admin, data, sha256 === undefined ? {} : { sha256 });
    assert.equal(r.status, status, JSON.stringify(r.body));
    if (typeof error === "string") assert.equal(r.body["error"], error);
    else assert.match(String(r.body["error"]), error);
    return unit.link.states().slice(before);
  };

  test("a file that is not a tarball: 422, FAILED reported to ThingsBoard with the reason", async () => {
    const states = await refusedWith(Buffer.from("this is not a package\n".repeat(100)), 422, /^not a release package/);
    assert.deepEqual(states, ["DOWNLOADING", "FAILED"]);
    assert.match(unit.link.lastError() ?? "", /^not a release package/);
    const s = unit.updater.status();
    assert.equal(s.last?.state, "FAILED");
    assert.deepEqual(s.last?.source, { kind: "upload", by: "admin at 127.0.0.1" });
  });

  test("a package whose manifest lacks fields: 422 naming them", async () => {
    const pkg = packageWithManifest({ name: "rpi-tb-gateway", version: "2.0.0", arch: process.arch });
    await refusedWith(pkg, 422, "manifest.json needs string name, version, arch and nodeAbi");
  });

  test("a package for another CPU: 422 naming both architectures, after the checksum (as from ThingsBoard)", async () => {
    const states = await refusedWith(
      buildPackage({ version: "2.0.0", arch: other }),
      422,
      `the package is built for ${other}; this unit is ${process.arch}`,
    );
    assert.deepEqual(states, ["DOWNLOADING", "DOWNLOADED", "VERIFIED", "FAILED"]);
  });

  test("another application's package, or the version already running: 422", async () => {
    await refusedWith(
      buildPackage({ version: "2.0.0", name: "node-red" }),
      422,
      "the package is node-red, not rpi-tb-gateway",
    );
    await refusedWith(buildPackage({ version: "1.0.0" }), 422, "this unit already runs rpi-tb-gateway 1.0.0");
  });

  test("a SHA-256 given with the upload that the file does not have: 422 checksum mismatch", async () => {
    const pkg = buildPackage({ version: "2.0.0" });
    const states = await refusedWith(
      pkg,
      422,
      `checksum mismatch: SHA256 of the upload is ${sha(pkg)}, the SHA-256 given with the upload is ${"e".repeat(64)}`,
      "e".repeat(64),
    );
    assert.deepEqual(states, ["DOWNLOADING", "DOWNLOADED", "FAILED"]);
    await refusedWith(pkg, 400, "sha256 must be 64 hexadecimal digits", "abc");
  });

  test("a file over gateway.ota.maxUploadMb: 413 before anything is written", async () => {
    const before = unit.link.states().length;
    const r = await upload(run, admin, Buffer.alloc(1048576 + 1));
    assert.equal(r.status, 413);
    assert.equal(r.body["error"], "the file is 1.0 MB; packages of at most 1.0 MB are taken (gateway.ota.maxUploadMb)");
    assert.deepEqual(unit.link.states().slice(before), []);
  });

  test("not enough disk space (5x the package + 20 MB, the ThingsBoard path's rule): 507, nothing written", async () => {
    const pkg = buildPackage({ version: "2.0.0" });
    free = 20 * 1048576;
    const before = unit.link.states().length;
    const r = await upload(run, admin, pkg);
    assert.equal(r.status, 507);
    assert.match(
      String(r.body["error"]),
      /^not enough disk space: 20 MB free in .*ota, 20 MB needed \(5x the package \+ 20 MB\)$/,
    );
    assert.deepEqual(unit.link.states().slice(before), []);
  });
});

describe("dashboard package upload: one update at a time", () => {
  let run: Running;
  let unit: TestUpdater;
  let dataDir: string;
  let admin: string;
  before(async () => {
    dataDir = tempDir("tbgw-upload-");
    unit = testUpdater(dataDir);
    run = await startDashboard({ dataDir, otaUpload: unit.updater });
    admin = await login(run.base);
  });
  after(async () => {
    unit.updater.stop();
    await run.close();
  });

  test("an upload while another is arriving: 409; the first one cut off leaves no part behind", async () => {
    const pkg = buildPackage({ version: "2.0.0" });
    const first = partialUpload(run, admin, pkg.length, pkg.subarray(0, 1000));
    await until(() => (unit.updater.status().received ?? 0) >= 1000, "the first 1000 bytes received");
    const second = await upload(run, admin, pkg);
    assert.deepEqual(
      [second.status, second.body["error"]],
      [409, "another package is being uploaded (by admin at 127.0.0.1)"],
    );
    assert.ok(existsSync(join(dataDir, "ota", "upload.part")));
    first.abort();
    await first.answer.catch(() => undefined);
    await until(() => unit.updater.status().state === "FAILED", "the cut-off upload failed");
    assert.match(unit.updater.status().error ?? "", /^the upload was cut off after 1000 of \d+ bytes/);
    assert.deepEqual(unit.link.states(), ["DOWNLOADING", "FAILED"]);
    assert.deepEqual(otaFiles(dataDir), ["result.json"]);
    assert.equal(unit.restarts(), 0);
  });

  test("an upload while ThingsBoard's package is downloading: 409", async () => {
    unit.link.shared = {
      sw_title: "rpi-tb-gateway",
      sw_version: "3.0.0",
      sw_size: 50_000,
      sw_checksum: "a".repeat(64),
      sw_checksum_algorithm: "SHA256",
    };
    unit.updater.onReady();
    await until(() => unit.link.published.some((p) => p.topic.startsWith("v2/sw/request/")), "a chunk request");
    const r = await upload(run, admin, buildPackage({ version: "2.0.0" }));
    assert.deepEqual(
      [r.status, r.body["error"]],
      [409, "an update from ThingsBoard to 3.0.0 is under way; try again when it has ended"],
    );
    assert.equal(existsSync(join(dataDir, "ota", "upload.part")), false);
  });
});

describe("dashboard package upload: a good package takes the ThingsBoard path to apply.json and the restart", () => {
  let run: Running;
  let unit: TestUpdater;
  let dataDir: string;
  let admin: string;
  before(async () => {
    dataDir = tempDir("tbgw-upload-");
    unit = testUpdater(dataDir);
    run = await startDashboard({ dataDir, otaUpload: unit.updater });
    admin = await login(run.base);
  });
  after(() => run.close());

  test("202, apply.json naming the upload and its admin, restart requested once the answer is out", async () => {
    const pkg = buildPackage({ version: "2.0.0" }, {}, 300_000);
    const r = await upload(run, admin, pkg, { sha256: sha(pkg).toUpperCase() });
    assert.equal(r.status, 202, JSON.stringify(r.body));
    assert.deepEqual(r.body, { ok: true, version: "2.0.0", sha256: sha(pkg), state: "UPDATING" });
    await until(() => unit.restarts() > 0, "the restart request");
    const apply = JSON.parse(readFileSync(join(dataDir, "ota", "apply.json"), "utf8")) as Record<string, unknown>;
    assert.deepEqual(
      [apply["version"], apply["file"], apply["algorithm"], apply["checksum"], apply["source"], apply["by"]],
      ["2.0.0", "package.tar.gz", "SHA256", sha(pkg), "upload", "admin at 127.0.0.1"],
    );
    assert.equal(apply["from"], "1.0.0");
    assert.equal(sha(readFileSync(join(dataDir, "ota", "package.tar.gz"))), sha(pkg));
    assert.equal(existsSync(join(dataDir, "ota", "upload.part")), false);
    assert.deepEqual(unit.link.states(), ["DOWNLOADING", "DOWNLOADED", "VERIFIED", "UPDATING"]);
    assert.equal(unit.restarts(), 1);
    const s = unit.updater.status();
    assert.deepEqual(
      [s.state, s.target?.version, s.source],
      ["UPDATING", "2.0.0", { kind: "upload", by: "admin at 127.0.0.1" }],
    );
    // Restarting to apply: no second update may start.
    const again = await upload(run, admin, buildPackage({ version: "2.1.0" }));
    assert.deepEqual(
      [again.status, again.body["error"]],
      [409, "an update is being applied: the appliance is restarting"],
    );
  });
});
