import { test, describe, after } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { Sandbox, fakeCheckout, APP } from "./helpers/sandbox.ts";
import { loadConfigText } from "../../server/config/load.ts";

const boxes: Sandbox[] = [];
after(() => {
  for (const b of boxes) b.cleanup();
});

function setup(opts: { example?: string | null; fakes?: string[] } = {}) {
  const box = new Sandbox(opts.fakes);
  boxes.push(box);
  const src = fakeCheckout(box.dir, { example: opts.example });
  const install = path.join(src, "scripts", "install.sh");
  return { box, src, install, args: ["--root", box.root, "--source", src] };
}

/** The state a Raspberry Pi OS image is in: gpio/i2c groups exist, our user does not. */
function piOsAccounts(box: Sandbox, withUser = false) {
  box.write("etc/group", `root:x:0:\ngpio:x:997:pi\ni2c:x:998:pi\n${withUser ? "rpi-tb-gateway:x:990:\n" : ""}`);
  box.write("etc/passwd", `root:x:0:0:root:/root:/bin/bash\n${withUser ? "rpi-tb-gateway:x:990:990::/var/lib/rpi-tb-gateway:/usr/sbin/nologin\n" : ""}`);
}

const mode = (p: string) => (fs.statSync(p).mode & 0o777).toString(8);

describe("install.sh", () => {
  test("fresh install: app, config, data dir, user, units, build tools; no restart", () => {
    const { box, install, args } = setup();
    const res = box.run(install, args, { FAKE_MISSING: "build-essential" });
    assert.equal(res.status, 0, res.stderr + res.stdout);

    // Application copied without VCS, local node_modules or local data; deps from npm ci.
    assert.ok(box.exists(`${APP}/server/main.ts`));
    assert.ok(box.exists(`${APP}/scripts/firstboot/rpi-tb-gateway-firstboot.sh`));
    assert.equal(box.exists(`${APP}/.git`), false);
    assert.equal(box.exists(`${APP}/data`), false);
    assert.equal(box.exists(`${APP}/node_modules/dev-only`), false);
    assert.ok(box.exists(`${APP}/node_modules/.fake-ci`));
    assert.ok(box.exists(`${APP}/web/dist/index.html`), "dashboard bundle built");
    assert.equal(box.read(`${APP}/dist/rpi-tb-gateway.mjs`), "", "server bundle built in staging, not the checkout's local build copied");
    assert.equal(box.exists(`${APP}.staging`), false);
    assert.match(box.read(`${APP}/.install-state`), /^lock=[0-9a-f]{64}\nabi=\d+-\w+\n/);

    // Config from the example, 0640, group of the service user; data dir 0750 owned by it.
    assert.equal(box.read("etc/rpi-tb-gateway/config.yaml"), "version: 1\n# example config\n");
    assert.equal(mode(box.r("etc/rpi-tb-gateway/config.yaml")), "640");
    assert.equal(mode(box.r("etc/rpi-tb-gateway")), "750");
    assert.equal(mode(box.r("var/lib/rpi-tb-gateway")), "750");
    assert.ok(res.calls.includes(`chown root:rpi-tb-gateway ${box.r("etc/rpi-tb-gateway/config.yaml")}`));
    assert.ok(res.calls.includes(`chown -R rpi-tb-gateway:rpi-tb-gateway ${box.r("var/lib/rpi-tb-gateway")}`));

    // Units: ExecStart uses the node that passed the version check.
    const unit = box.read("etc/systemd/system/rpi-tb-gateway.service");
    assert.match(unit, new RegExp(`^ExecStart=${box.bin}/node --max-semi-space-size=1 --max-old-space-size=128 /opt/rpi-tb-gateway/dist/rpi-tb-gateway.mjs --config /etc/rpi-tb-gateway/config.yaml$`, "m"));
    assert.ok(box.exists("etc/systemd/system/rpi-tb-gateway-firstboot.service"));

    const p = `--prefix ${box.root}`;
    assert.deepEqual(
      res.calls.filter((c) => !c.startsWith("dpkg-query") && !c.startsWith("chown")),
      [
        "apt-get update -q",
        "apt-get install -y -q --no-install-recommends build-essential",
        `groupadd ${p} --system gpio`,
        `groupadd ${p} --system i2c`,
        `useradd ${p} --system --user-group --no-create-home --home-dir /var/lib/rpi-tb-gateway --shell /usr/sbin/nologin rpi-tb-gateway`,
        `usermod ${p} --append --groups gpio,i2c rpi-tb-gateway`,
        "npm ci --omit=dev --no-audit --no-fund",
        "npm-cwd rpi-tb-gateway.staging",
        "node scripts/build-web.mjs",
        "node scripts/build-server.mjs",
        "systemctl daemon-reload",
        `systemctl --root=${box.root} enable rpi-tb-gateway.service`,
        `systemctl --root=${box.root} enable rpi-tb-gateway-firstboot.service`,
        "systemctl is-active --quiet rpi-tb-gateway.service",
      ],
    );
    assert.match(res.stdout, /Edit \/etc\/rpi-tb-gateway\/config.yaml/);
  });

  test("re-run as upgrade: keeps the edited config and node_modules, removes stale files, restarts the running service", () => {
    const { box, install, args } = setup();
    piOsAccounts(box);
    assert.equal(box.run(install, args).status, 0);
    box.write("etc/rpi-tb-gateway/config.yaml", "thingsboard:\n  host: tb.local # edited by the user\n");
    box.write(`${APP}/stale-from-old-version.ts`, "old");
    piOsAccounts(box, true);

    const res = box.run(install, args, { FAKE_ACTIVE: "0" });
    assert.equal(res.status, 0, res.stderr);
    assert.equal(box.read("etc/rpi-tb-gateway/config.yaml"), "thingsboard:\n  host: tb.local # edited by the user\n");
    assert.match(res.stdout, /Keeping existing .*config.yaml/);
    assert.equal(box.exists(`${APP}/stale-from-old-version.ts`), false);
    assert.ok(box.exists(`${APP}/node_modules/.fake-ci`), "node_modules carried over");
    assert.equal(res.calls.filter((c) => c.startsWith("npm ")).length, 0, "same lock and Node ABI: no npm ci");
    assert.equal(res.calls.filter((c) => /^(apt-get|useradd|groupadd)/.test(c)).length, 0);
    assert.ok(res.calls.includes(`usermod --prefix ${box.root} --append --groups gpio,i2c rpi-tb-gateway`));
    assert.equal(res.calls.at(-1), "systemctl restart rpi-tb-gateway.service");
  });

  test("a Node ABI change rebuilds native modules; a new lockfile reinstalls", () => {
    const { box, src, install, args } = setup();
    piOsAccounts(box, true);
    assert.equal(box.run(install, args).status, 0);
    const state = box.r(`${APP}/.install-state`);
    fs.writeFileSync(state, fs.readFileSync(state, "utf8").replace(/^abi=.*$/m, "abi=108-arm"));
    let res = box.run(install, args);
    assert.equal(res.status, 0, res.stderr);
    assert.ok(res.calls.includes("npm rebuild"));
    assert.match(res.stdout, /Node ABI changed \(108-arm -> /);

    fs.writeFileSync(path.join(src, "package-lock.json"), '{"lockfileVersion":3,"changed":true}');
    res = box.run(install, args);
    assert.ok(res.calls.includes("npm ci --omit=dev --no-audit --no-fund"));
  });

  test("a failed npm ci leaves the installed version untouched", () => {
    const { box, src, install, args } = setup();
    piOsAccounts(box, true);
    assert.equal(box.run(install, args).status, 0);
    fs.writeFileSync(path.join(src, "server", "main.ts"), 'console.log("v2");\n');
    fs.writeFileSync(path.join(src, "package-lock.json"), '{"lockfileVersion":3,"v":2}');
    const res = box.run(install, args, { FAKE_NPM_FAIL: "1", FAKE_ACTIVE: "0" });
    assert.notEqual(res.status, 0);
    assert.match(res.stderr, /npm ci failed; the installed version is unchanged/);
    assert.equal(box.read(`${APP}/server/main.ts`), 'console.log("main");\n');
    assert.equal(box.exists(`${APP}.staging`), false);
    assert.equal(res.calls.includes("systemctl restart rpi-tb-gateway.service"), false);
  });

  test("a failed server build leaves the installed version untouched", () => {
    const { box, src, install, args } = setup();
    piOsAccounts(box, true);
    assert.equal(box.run(install, args).status, 0);
    fs.writeFileSync(path.join(src, "server", "main.ts"), 'console.log("v2");\n');
    const res = box.run(install, args, { FAKE_BUILD_FAIL: "1", FAKE_ACTIVE: "0" });
    assert.notEqual(res.status, 0);
    assert.match(res.stderr, /building the server bundle failed; the installed version is unchanged/);
    assert.equal(box.read(`${APP}/server/main.ts`), 'console.log("main");\n');
    assert.ok(box.exists(`${APP}/dist/rpi-tb-gateway.mjs`), "the running version keeps its bundle");
    assert.equal(box.exists(`${APP}.staging`), false);
    assert.equal(res.calls.includes("systemctl restart rpi-tb-gateway.service"), false);
  });

  test("--enable-i2c without raspi-config edits config.txt once, under [all]", () => {
    const { box, install, args } = setup();
    piOsAccounts(box, true);
    box.write("boot/firmware/config.txt", "#dtparam=i2c_arm=on\n[cm4]\notg_mode=1\n");
    const first = box.run(install, [...args, "--enable-i2c"]);
    assert.equal(first.status, 0, first.stderr);
    assert.match(first.stdout, /I2C was enabled: reboot once/);
    assert.equal(box.run(install, [...args, "--enable-i2c"]).status, 0);
    const cfg = box.read("boot/firmware/config.txt");
    assert.equal(cfg.match(/^dtparam=i2c_arm=on$/gm)?.length, 1);
    assert.match(cfg, /\[all\]\ndtparam=i2c_arm=on\n$/);
    assert.equal(box.read("etc/modules-load.d/rpi-tb-gateway-i2c.conf"), "i2c-dev\n");
    const noBoot = setup();
    const res = noBoot.box.run(noBoot.install, [...noBoot.args, "--enable-i2c"]);
    assert.equal(res.status, 0);
    assert.match(res.stderr, /enable I2C by hand/);
    assert.doesNotMatch(res.stdout, /I2C was enabled/);
  });

  test("--enable-i2c uses raspi-config when present, and falls back to /boot/config.txt on older images", () => {
    const withRaspi = setup({ fakes: undefined });
    withRaspi.box.addFake("raspi-config");
    piOsAccounts(withRaspi.box, true);
    withRaspi.box.write("boot/firmware/config.txt", "");
    const res = withRaspi.box.run(withRaspi.install, [...withRaspi.args, "--enable-i2c"]);
    assert.ok(res.calls.includes("raspi-config nonint do_i2c 0"));
    assert.equal(withRaspi.box.read("boot/firmware/config.txt"), "");

    const old = setup();
    piOsAccounts(old.box, true);
    old.box.write("boot/config.txt", "dtparam=audio=on\n");
    assert.equal(old.box.run(old.install, [...old.args, "--enable-i2c"]).status, 0);
    assert.match(old.box.read("boot/config.txt"), /dtparam=i2c_arm=on/);
  });

  test("refuses an old Node with install instructions, before changing anything", () => {
    const { box, install, args } = setup();
    const res = box.run(install, args, { FAKE_NODE_VERSION: "v18.19.0" });
    assert.notEqual(res.status, 0);
    assert.match(res.stderr, /node 18\.19\.0 .* is older than 20\.19\.0/);
    assert.match(res.stderr, /deb\.nodesource\.com\/setup_22\.x/);
    assert.equal(box.exists(APP), false);
    assert.deepEqual(res.calls, []);
  });

  test("--dry-run prints the steps and changes nothing", () => {
    const { box, install, args } = setup();
    const res = box.run(install, [...args, "--dry-run", "--enable-i2c"], { FAKE_MISSING: "python3" });
    assert.equal(res.status, 0, res.stderr);
    assert.deepEqual(fs.readdirSync(box.root), []);
    assert.match(res.stdout, /\[dry-run\] .*apt-get install .*python3/);
    assert.match(res.stdout, /\[dry-run\] useradd/);
    assert.match(res.stdout, /\[dry-run\] npm ci --omit=dev/);
    assert.match(res.stdout, /\[dry-run\] node scripts\/build-web\.mjs; node scripts\/build-server\.mjs; swap /);
    assert.match(res.stdout, /\[dry-run\] systemctl daemon-reload/);
    const changing = res.calls.filter((c) => !c.startsWith("dpkg-query") && !c.includes("is-active"));
    assert.deepEqual(changing, []);
  });

  test("without config.example.yaml a minimal config is written; unknown options are refused", () => {
    const { box, install, args } = setup({ example: null });
    const res = box.run(install, args);
    assert.equal(res.status, 0, res.stderr);
    // Refused exactly for its two placeholders (so it never starts unedited), valid once they are filled in.
    const written = box.read("etc/rpi-tb-gateway/config.yaml");
    const unedited = loadConfigText(written, {});
    assert.deepEqual(unedited.ok ? [] : unedited.errors.map((e) => e.split(":")[0]), ["thingsboard.host", "thingsboard.accessToken"]);
    const edited = loadConfigText(written.replace("REPLACE_WITH_THINGSBOARD_HOST", "tb.local").replace("REPLACE_WITH_GATEWAY_ACCESS_TOKEN", "A1B2C3"), {});
    assert.ok(edited.ok, edited.ok ? "" : edited.errors.join("; "));
    assert.equal(edited.config.hardware, "pi");
    assert.match(res.stderr, /no config.example.yaml/);
    const bad = box.run(install, [...args, "--frobnicate"]);
    assert.notEqual(bad.status, 0);
    assert.match(bad.stderr, /unknown option: --frobnicate/);
  });
});
