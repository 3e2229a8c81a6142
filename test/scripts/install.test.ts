import { test, describe, after } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { Sandbox, fakeCheckout, APP, CURRENT, EXAMPLE_CONFIG, EDITED_CONFIG } from "./helpers/sandbox.ts";
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
  box.write(
    "etc/passwd",
    `root:x:0:0:root:/root:/bin/bash\n${withUser ? "rpi-tb-gateway:x:990:990::/var/lib/rpi-tb-gateway:/usr/sbin/nologin\n" : ""}`,
  );
}

const mode = (p: string) => (fs.statSync(p).mode & 0o777).toString(8);
/** The release `current` points at, relative to the app directory (releases/<id>). */
const currentTarget = (box: Sandbox) => fs.readlinkSync(box.r(CURRENT));
const releases = (box: Sandbox) => fs.readdirSync(box.r(`${APP}/releases`)).sort();

/** Commands that talk to this machine rather than to the --root tree. */
const HOST_COMMANDS = /^(apt-get|raspi-config|systemctl (daemon-reload|is-active|restart|start|stop))\b/;

describe("install.sh", () => {
  test("fresh install: release, config, data dir, user, units; the service waits for the edited config", () => {
    const { box, install, args } = setup();
    const res = box.run(install, args);
    assert.equal(res.status, 0, res.stderr + res.stdout);

    // The application is a release that `current` points at, without VCS, local node_modules or data.
    assert.match(currentTarget(box), /^releases\/\d{8}T\d{6}Z/);
    assert.ok(box.exists(`${CURRENT}/server/main.ts`));
    assert.ok(box.exists(`${CURRENT}/scripts/firstboot/rpi-tb-gateway-firstboot.sh`));
    assert.equal(box.exists(`${CURRENT}/.git`), false);
    assert.equal(box.exists(`${CURRENT}/data`), false);
    assert.equal(box.exists(`${CURRENT}/node_modules/dev-only`), false);
    assert.ok(box.exists(`${CURRENT}/node_modules/.fake-ci`));
    assert.ok(box.exists(`${CURRENT}/web/dist/index.html`), "dashboard bundle built");
    assert.equal(
      box.read(`${CURRENT}/dist/rpi-tb-gateway.mjs`),
      "",
      "server bundle built in the release, not the checkout's local build copied",
    );
    assert.deepEqual(fs.readdirSync(box.r(APP)).sort(), ["current", "releases"]);
    assert.match(box.read(`${CURRENT}/.install-state`), /^lock=[0-9a-f]{64}\nabi=\d+-\w+\n/);

    // Everything under /opt belongs to root (the checkout's owner must not own what root runs).
    const release = box.r(`${APP}/${currentTarget(box)}`);
    assert.ok(res.calls.includes(`chown -R root:root ${release}`), res.calls.join("\n"));
    assert.equal(mode(release), "755");

    // Config from the example, 0640, group of the service user; data dir 0750 owned by it.
    assert.equal(box.read("etc/rpi-tb-gateway/config.yaml"), EXAMPLE_CONFIG);
    assert.equal(mode(box.r("etc/rpi-tb-gateway/config.yaml")), "640");
    assert.equal(mode(box.r("etc/rpi-tb-gateway")), "750");
    assert.equal(mode(box.r("var/lib/rpi-tb-gateway")), "750");
    assert.ok(res.calls.includes(`chown root:rpi-tb-gateway ${box.r("etc/rpi-tb-gateway/config.yaml")}`));
    assert.ok(res.calls.includes(`chown -R rpi-tb-gateway:rpi-tb-gateway ${box.r("var/lib/rpi-tb-gateway")}`));

    // Under --root the unit names DIR's node, and runs the `current` release.
    const unit = box.read("etc/systemd/system/rpi-tb-gateway.service");
    assert.match(
      unit,
      /^ExecStart=\/usr\/bin\/node --max-semi-space-size=1 --max-old-space-size=128 \/opt\/rpi-tb-gateway\/current\/dist\/rpi-tb-gateway.mjs --config \/etc\/rpi-tb-gateway\/config.yaml$/m,
    );
    assert.ok(box.exists("etc/systemd/system/rpi-tb-gateway-firstboot.service"));

    const p = `--prefix ${box.root}`;
    assert.deepEqual(
      res.calls.filter((c) => !c.startsWith("dpkg-query") && !c.startsWith("chown")),
      [
        `groupadd ${p} --system gpio`,
        `groupadd ${p} --system i2c`,
        `useradd ${p} --system --user-group --no-create-home --home-dir /var/lib/rpi-tb-gateway --shell /usr/sbin/nologin rpi-tb-gateway`,
        `usermod ${p} --append --groups gpio,i2c rpi-tb-gateway`,
        "npm ci --omit=dev --no-audit --no-fund",
        `npm-cwd releases cache=${release}/.npm-cache`,
        "node scripts/build-web.mjs",
        "node scripts/build-server.mjs",
        "node scripts/check-native.mjs",
        `systemctl --root=${box.root} enable rpi-tb-gateway-firstboot.service`,
      ],
      "the gateway is not enabled while the config holds a placeholder",
    );
    assert.equal(box.exists(`${CURRENT}/.npm-cache`), false, "npm's cache stays inside DIR and is removed");
    assert.match(
      res.stdout,
      /Not enabling rpi-tb-gateway.service: \/etc\/rpi-tb-gateway\/config.yaml still holds REPLACE_WITH_ placeholders/,
    );
    assert.match(
      res.stdout,
      /Next steps, in this order:\n {2}1\. Edit \/etc\/rpi-tb-gateway\/config.yaml .*REPLACE_WITH_.*\n {2}2\. Start it, now and at every boot: sudo systemctl enable --now rpi-tb-gateway\n/,
    );
  });

  test("--root touches nothing outside DIR: no apt-get, raspi-config, daemon-reload, is-active or restart", () => {
    const { box, install, args } = setup({ example: EDITED_CONFIG });
    box.addFake("raspi-config");
    box.write("boot/firmware/config.txt", "");
    const res = box.run(install, [...args, "--enable-i2c"], { FAKE_MISSING: "build-essential", FAKE_ACTIVE: "0" });
    assert.equal(res.status, 0, res.stderr);
    assert.deepEqual(
      res.calls.filter((c) => HOST_COMMANDS.test(c)),
      [],
    );
    assert.match(res.stderr, /--root: not installing build-essential on this machine/);
    assert.match(
      box.read("boot/firmware/config.txt"),
      /^dtparam=i2c_arm=on$/m,
      "I2C enabled in DIR's config.txt instead",
    );
    // Every absolute path a command was given lies inside DIR (useradd's --home-dir is inside the target by --prefix).
    for (const c of res.calls) {
      for (const arg of c.split(" ").filter((a) => a.startsWith("/") || a.includes("=/"))) {
        const abs = arg.slice(arg.indexOf("/"));
        if (c.startsWith("useradd") && abs === "/var/lib/rpi-tb-gateway") continue;
        if (c.startsWith("useradd") && abs === "/usr/sbin/nologin") continue;
        assert.ok(abs.startsWith(box.root), `${c}: ${abs} is outside ${box.root}`);
      }
    }
    assert.ok(
      res.calls.includes(`systemctl --root=${box.root} enable rpi-tb-gateway.service`),
      "an edited config: enabled in DIR",
    );
    assert.match(
      res.stdout,
      /1\. Check .*\n {2}2\. Reboot once \(sudo reboot\): I2C was just enabled.*\n {2}3\. Start it: sudo systemctl start rpi-tb-gateway/,
    );
  });

  test("on the live system (dry run): apt-get, raspi-config, daemon-reload, and a restart of a running service", () => {
    const { box, src, install } = setup({ example: EDITED_CONFIG });
    box.addFake("raspi-config");
    const res = box.run(install, ["--source", src, "--dry-run", "--enable-i2c"], {
      FAKE_MISSING: "python3",
      FAKE_ACTIVE: "0",
    });
    assert.equal(res.status, 0, res.stderr);
    for (const step of [
      /\[dry-run\] env DEBIAN_FRONTEND=noninteractive apt-get install .*python3/,
      /\[dry-run\] raspi-config nonint do_i2c 0/,
      /\[dry-run\] systemctl daemon-reload/,
      /\[dry-run\] systemctl enable rpi-tb-gateway\.service/,
      /\[dry-run\] systemctl restart rpi-tb-gateway\.service/,
    ]) {
      assert.match(res.stdout, step);
    }
    assert.deepEqual(
      res.calls.filter((c) => !c.startsWith("dpkg-query") && !c.includes("is-active")),
      [],
      "a dry run changes nothing",
    );
  });

  test("upgrade: keeps the edited config, copies node_modules, switches `current` atomically, keeps one previous release", () => {
    const { box, install, args } = setup();
    piOsAccounts(box);
    assert.equal(box.run(install, args).status, 0);
    const first = currentTarget(box);
    box.write("etc/rpi-tb-gateway/config.yaml", EDITED_CONFIG);
    box.write(`${CURRENT}/stale-from-old-version.ts`, "old");
    piOsAccounts(box, true);

    const res = box.run(install, args, { FAKE_ACTIVE: "0" });
    assert.equal(res.status, 0, res.stderr);
    assert.equal(box.read("etc/rpi-tb-gateway/config.yaml"), EDITED_CONFIG);
    assert.match(res.stdout, /Keeping existing .*config.yaml/);
    const second = currentTarget(box);
    assert.notEqual(second, first);
    assert.equal(fs.lstatSync(box.r(CURRENT)).isSymbolicLink(), true);
    assert.equal(box.exists(`${CURRENT}/stale-from-old-version.ts`), false);
    assert.ok(box.exists(`${CURRENT}/node_modules/.fake-ci`), "node_modules carried over");
    assert.equal(res.calls.filter((c) => c.startsWith("npm ")).length, 0, "same lock and Node ABI: no npm ci");
    assert.equal(res.calls.filter((c) => /^(apt-get|useradd|groupadd)/.test(c)).length, 0);
    assert.ok(res.calls.includes(`usermod --prefix ${box.root} --append --groups gpio,i2c rpi-tb-gateway`));
    assert.ok(
      res.calls.includes(`systemctl --root=${box.root} enable rpi-tb-gateway.service`),
      "edited config: enabled",
    );
    assert.deepEqual(
      releases(box),
      [first, second].map((r) => r.replace("releases/", "")).sort(),
      "the previous release is kept for a manual rollback",
    );
    assert.equal(box.exists(`${APP}/current.new`), false);

    // A third run prunes the oldest.
    assert.equal(box.run(install, args).status, 0);
    assert.deepEqual(releases(box), [second, currentTarget(box)].map((r) => r.replace("releases/", "")).sort());
  });

  test("a staged build never writes into the running release's files (a copy, not hard links)", () => {
    const { box, install, args } = setup();
    piOsAccounts(box, true);
    assert.equal(box.run(install, args).status, 0);
    const live = box.r(`${CURRENT}/node_modules/better-sqlite3/build/Release/better_sqlite3.node`);
    const liveRelease = fs.realpathSync(box.r(CURRENT));
    const before = { ino: fs.statSync(live).ino, content: fs.readFileSync(live, "utf8") };
    const state = box.r(`${CURRENT}/.install-state`);
    fs.writeFileSync(state, fs.readFileSync(state, "utf8").replace(/^abi=.*$/m, "abi=108-arm"));

    // The rebuild rewrites every .node file in place, then fails: the running release must not have changed.
    const failed = box.run(install, args, { FAKE_NPM_FAIL: "1" });
    assert.notEqual(failed.status, 0);
    assert.match(failed.stderr, /npm rebuild failed; the installed version is unchanged/);
    assert.equal(fs.realpathSync(box.r(CURRENT)), liveRelease);
    assert.deepEqual({ ino: fs.statSync(live).ino, content: fs.readFileSync(live, "utf8") }, before);

    // A successful rebuild: the new release has its own rebuilt file; the previous one is as it was.
    const ok = box.run(install, args);
    assert.equal(ok.status, 0, ok.stderr);
    assert.ok(ok.calls.includes("npm rebuild"));
    const fresh = box.r(`${CURRENT}/node_modules/better-sqlite3/build/Release/better_sqlite3.node`);
    assert.equal(fs.readFileSync(fresh, "utf8"), "rebuilt\n");
    assert.notEqual(fs.statSync(fresh).ino, before.ino);
    const kept = path.join(liveRelease, "node_modules/better-sqlite3/build/Release/better_sqlite3.node");
    assert.deepEqual({ ino: fs.statSync(kept).ino, content: fs.readFileSync(kept, "utf8") }, before);
  });

  test("a native module that does not load stops the upgrade before the switch", () => {
    const { box, src, install, args } = setup();
    piOsAccounts(box, true);
    assert.equal(box.run(install, args).status, 0);
    const liveRelease = currentTarget(box);
    fs.writeFileSync(path.join(src, "package-lock.json"), '{"lockfileVersion":3,"v":2}');
    const res = box.run(install, args, { FAKE_BROKEN_NATIVE: "1" });
    assert.notEqual(res.status, 0);
    // The real scripts/check-native.mjs, loading a binding that is no shared object (a real dlopen error).
    assert.match(res.stderr, /i2c-bus: does not load with node v\d+/);
    assert.match(res.stderr, /a native module does not load \(above\); the installed version is unchanged/);
    assert.equal(currentTarget(box), liveRelease);
    assert.deepEqual(releases(box), [liveRelease.replace("releases/", "")], "the broken release is removed");
  });

  test("a new lockfile reinstalls; a failed npm ci or server build leaves the installed version untouched", () => {
    const { box, src, install, args } = setup();
    piOsAccounts(box, true);
    assert.equal(box.run(install, args).status, 0);
    const liveRelease = currentTarget(box);
    fs.writeFileSync(path.join(src, "server", "main.ts"), 'console.log("v2");\n');
    fs.writeFileSync(path.join(src, "package-lock.json"), '{"lockfileVersion":3,"v":2}');
    let res = box.run(install, args, { FAKE_NPM_FAIL: "1", FAKE_ACTIVE: "0" });
    assert.notEqual(res.status, 0);
    assert.ok(res.calls.includes("npm ci --omit=dev --no-audit --no-fund"));
    assert.match(res.stderr, /npm ci failed; the installed version is unchanged/);
    assert.equal(box.read(`${CURRENT}/server/main.ts`), 'console.log("main");\n');
    assert.equal(currentTarget(box), liveRelease);

    res = box.run(install, args, { FAKE_BUILD_FAIL: "1", FAKE_ACTIVE: "0" });
    assert.notEqual(res.status, 0);
    assert.match(res.stderr, /building the server bundle failed; the installed version is unchanged/);
    assert.equal(box.read(`${CURRENT}/server/main.ts`), 'console.log("main");\n');
    assert.ok(box.exists(`${CURRENT}/dist/rpi-tb-gateway.mjs`), "the running version keeps its bundle");
    assert.deepEqual(releases(box), [liveRelease.replace("releases/", "")]);
  });

  test("an install from before releases (files directly in /opt/rpi-tb-gateway) moves to current", () => {
    const { box, install, args } = setup({ example: EDITED_CONFIG });
    piOsAccounts(box, true);
    box.write(`${APP}/server/main.ts`, "old layout");
    box.write(`${APP}/node_modules/.fake-ci`, "");
    box.write(`${APP}/.install-state`, "lock=none\nabi=1-x\n");
    const res = box.run(install, args);
    assert.equal(res.status, 0, res.stderr);
    assert.deepEqual(fs.readdirSync(box.r(APP)).sort(), ["current", "releases"]);
    assert.equal(box.read(`${CURRENT}/server/main.ts`), 'console.log("main");\n');
  });

  test("--enable-i2c without raspi-config edits config.txt once, under [all], and says to reboot before starting", () => {
    const { box, install, args } = setup();
    piOsAccounts(box, true);
    box.write("boot/firmware/config.txt", "#dtparam=i2c_arm=on\n[cm4]\notg_mode=1\n");
    const first = box.run(install, [...args, "--enable-i2c"]);
    assert.equal(first.status, 0, first.stderr);
    // In order: edit the config, reboot (I2C), start.
    assert.match(
      first.stdout,
      /1\. Edit \/etc\/rpi-tb-gateway\/config.yaml.*\n {2}2\. Reboot once \(sudo reboot\): I2C was just enabled.*\n {2}3\. Start it, now and at every boot: sudo systemctl enable --now rpi-tb-gateway\n/,
    );
    assert.equal(box.run(install, [...args, "--enable-i2c"]).status, 0);
    const cfg = box.read("boot/firmware/config.txt");
    assert.equal(cfg.match(/^dtparam=i2c_arm=on$/gm)?.length, 1);
    assert.match(cfg, /\[all\]\ndtparam=i2c_arm=on\n$/);
    assert.equal(box.read("etc/modules-load.d/rpi-tb-gateway-i2c.conf"), "i2c-dev\n");
    const noBoot = setup();
    const res = noBoot.box.run(noBoot.install, [...noBoot.args, "--enable-i2c"]);
    assert.equal(res.status, 0);
    assert.match(res.stderr, /enable I2C by hand/);
    assert.doesNotMatch(res.stdout, /I2C was just enabled/);

    const old = setup();
    piOsAccounts(old.box, true);
    old.box.write("boot/config.txt", "dtparam=audio=on\n");
    assert.equal(old.box.run(old.install, [...old.args, "--enable-i2c"]).status, 0);
    assert.match(old.box.read("boot/config.txt"), /dtparam=i2c_arm=on/);
  });

  test("--enable-1wire adds the w1-gpio overlay once (raspi-config for GPIO 4, config.txt for another pin)", () => {
    const { box, install, args } = setup();
    piOsAccounts(box, true);
    box.write("boot/firmware/config.txt", "[pi4]\narm_boost=1\n");
    const first = box.run(install, [...args, "--enable-1wire=17"]);
    assert.equal(first.status, 0, first.stderr);
    assert.match(
      first.stdout,
      /1-Wire was just enabled, and the 1-Wire probes appear under \/sys\/bus\/w1\/devices only after a reboot/,
    );
    assert.equal(box.run(install, [...args, "--enable-1wire=17"]).status, 0);
    const cfg = box.read("boot/firmware/config.txt");
    assert.equal(cfg.match(/^dtoverlay=w1-gpio/gm)?.length, 1);
    assert.match(cfg, /\[all\]\ndtoverlay=w1-gpio,gpiopin=17\n$/);
    const bad = box.run(install, [...args, "--enable-1wire=40"]);
    assert.notEqual(bad.status, 0);
    assert.match(bad.stderr, /expected a BCM GPIO 0-27/);

    const withRaspi = setup({ fakes: undefined });
    withRaspi.box.addFake("raspi-config");
    piOsAccounts(withRaspi.box, true);
    withRaspi.box.write("boot/firmware/config.txt", "");
    const res = withRaspi.box.run(withRaspi.install, [...withRaspi.args, "--enable-1wire"]);
    assert.equal(res.status, 0, res.stderr);
    assert.ok(res.calls.includes("raspi-config nonint do_onewire 0"));
  });

  test("refuses an old Node, and a missing npm, with install instructions, before changing anything", () => {
    const { box, install, args } = setup();
    const res = box.run(install, args, { FAKE_NODE_VERSION: "v18.19.0" });
    assert.notEqual(res.status, 0);
    assert.match(res.stderr, /node 18\.19\.0 .* is older than 20\.19\.0/);
    assert.match(res.stderr, /deb\.nodesource\.com\/setup_24\.x/);
    assert.equal(box.exists(APP), false);
    assert.deepEqual(res.calls, []);

    // Trixie's nodejs package comes without npm.
    const noNpm = setup({
      fakes: ["systemctl", "useradd", "groupadd", "usermod", "apt-get", "dpkg-query", "chown", "node", "uname"],
    });
    const bin = path.join(noNpm.box.dir, "bin-no-npm");
    fs.mkdirSync(bin);
    const r2 = spawnWithPathWithoutNpm(noNpm, bin);
    assert.notEqual(r2.status, 0);
    assert.match(r2.stderr, /npm not found \(Debian's nodejs package does not include it\): sudo apt install npm/);
    assert.equal(noNpm.box.exists(APP), false);
    assert.deepEqual(r2.calls, []);
  });

  test("Node 20 works, with a warning that it is past end of life and compiles SQLite; Node 24 is what it recommends", () => {
    const { box, install, args } = setup();
    const res = box.run(install, args, { FAKE_NODE_VERSION: "v20.19.2" });
    assert.equal(res.status, 0, res.stderr);
    assert.match(
      res.stderr,
      /Node\.js 20\.19\.2: Node 20 reached end of life on 2026-04-30.*compiles SQLite from source/,
    );
    assert.match(res.stderr, /runs on Node\.js 24 LTS \(22 accepted/);
    const current = box.run(install, args, { FAKE_NODE_VERSION: "v24.11.0" });
    assert.doesNotMatch(current.stderr, /end of life/);
  });

  test("uname -m: armv6l is refused before anything changes; armv7l installs with the Node 22 warning", () => {
    const { box, install, args } = setup();
    const v6 = box.run(install, args, { FAKE_MACHINE: "armv6l" });
    assert.notEqual(v6.status, 0);
    assert.match(
      v6.stderr,
      /ARMv6 Raspberry Pi \(Pi 1, Zero, Zero W; uname -m: armv6l\).*SIGILL.*Raspberry Pi OS \(64-bit\)/,
    );
    assert.deepEqual(v6.calls, []);
    assert.equal(box.exists(APP), false);

    const v7 = box.run(install, args, { FAKE_MACHINE: "armv7l" });
    assert.equal(v7.status, 0, v7.stderr);
    assert.match(v7.stderr, /32-bit ARM \(armv7l\): Node\.js 22 is the last runtime for it.*end of life in April 2027/);

    // 32-bit Raspberry Pi OS on a Pi 3/4 boots a 64-bit kernel: uname -m says aarch64, node is 32-bit.
    const mixed = box.run(install, args, { FAKE_MACHINE: "aarch64", FAKE_NODE_ABI: "127-arm" });
    assert.equal(mixed.status, 0, mixed.stderr);
    assert.match(mixed.stderr, /32-bit ARM \(32-bit node on a 64-bit kernel\): Node\.js 22 is the last runtime/);
    const arm64 = box.run(install, args, { FAKE_MACHINE: "aarch64", FAKE_NODE_ABI: "137-arm64" });
    assert.equal(arm64.status, 0, arm64.stderr);
    assert.doesNotMatch(arm64.stderr, /32-bit ARM/);
  });

  test("--root DIR holding another architecture's system is refused: its native modules cannot be built here", () => {
    const { box, install, args } = setup();
    const host = process.arch === "arm64" ? "aarch64" : "x86_64";
    const elf = (machine: number) => {
      const b = Buffer.alloc(64);
      b.write("\x7fELF", 0, "latin1");
      b[4] = 2;
      b.writeUInt16LE(machine, 18);
      return b;
    };
    fs.mkdirSync(box.r("usr/bin"), { recursive: true });
    fs.writeFileSync(box.r("usr/bin/sh"), elf(host === "aarch64" ? 62 : 183));
    const res = box.run(install, args);
    assert.notEqual(res.status, 0);
    assert.match(
      res.stderr,
      new RegExp(
        `holds a ${host === "aarch64" ? "x86_64" : "aarch64"} system \\(/usr/bin/sh\\) and this machine is ${host}: native modules .* would not load there`,
      ),
    );
    assert.deepEqual(res.calls, []);
    assert.equal(box.exists(APP), false);

    fs.writeFileSync(box.r("usr/bin/sh"), elf(host === "aarch64" ? 183 : 62));
    const same = box.run(install, args);
    assert.equal(same.status, 0, same.stderr);
    assert.match(same.stdout, new RegExp(`holds a ${host} system, like this machine`));
  });

  test("--dry-run prints the steps and changes nothing", () => {
    const { box, install, args } = setup();
    const res = box.run(install, [...args, "--dry-run", "--enable-i2c"]);
    assert.equal(res.status, 0, res.stderr);
    assert.deepEqual(fs.readdirSync(box.root), []);
    assert.match(res.stdout, /\[dry-run\] useradd/);
    assert.match(res.stdout, /\[dry-run\] npm ci --omit=dev/);
    assert.match(
      res.stdout,
      /\[dry-run\] node scripts\/build-web\.mjs; node scripts\/build-server\.mjs; node scripts\/check-native\.mjs; chown -R root:root; switch .*current/,
    );
    assert.match(res.stdout, /Not enabling rpi-tb-gateway\.service/, "the example it would write holds a placeholder");
    assert.deepEqual(
      res.calls.filter((c) => !c.startsWith("dpkg-query")),
      [],
    );
  });

  test("without config.example.yaml a minimal config is written; unknown options are refused", () => {
    const { box, install, args } = setup({ example: null });
    const res = box.run(install, args);
    assert.equal(res.status, 0, res.stderr);
    // Refused exactly for its two placeholders (so it never starts unedited), valid once they are filled in.
    const written = box.read("etc/rpi-tb-gateway/config.yaml");
    const unedited = loadConfigText(written, {});
    assert.deepEqual(unedited.ok ? [] : unedited.errors.map((e) => e.split(":")[0]), [
      "thingsboard.host",
      "thingsboard.accessToken",
    ]);
    const edited = loadConfigText(
      written
        .replace("REPLACE_WITH_THINGSBOARD_HOST", "tb.local")
        .replace("REPLACE_WITH_GATEWAY_ACCESS_TOKEN", "A1B2C3"),
      {},
    );
    assert.ok(edited.ok, edited.ok ? "" : edited.errors.join("; "));
    assert.equal(edited.config.hardware, "pi");
    assert.match(res.stderr, /no config.example.yaml/);
    assert.match(res.stdout, /Not enabling/);
    const bad = box.run(install, [...args, "--frobnicate"]);
    assert.notEqual(bad.status, 0);
    assert.match(bad.stderr, /unknown option: --frobnicate/);
  });
});

/** Runs install.sh with a PATH that has node but no npm anywhere (only the sandbox's bins and coreutils). */
function spawnWithPathWithoutNpm(s: ReturnType<typeof setup>, bin: string) {
  // Coreutils and friends, linked one by one, so no directory that holds npm is on PATH.
  for (const tool of [
    "bash",
    "env",
    "dirname",
    "basename",
    "cat",
    "sed",
    "grep",
    "sort",
    "head",
    "tr",
    "od",
    "mkdir",
    "id",
    "date",
    "sha256sum",
    "cut",
    "readlink",
    "printf",
  ]) {
    for (const dir of ["/usr/bin", "/bin"]) {
      const src = path.join(dir, tool);
      if (fs.existsSync(src)) {
        fs.symlinkSync(src, path.join(bin, tool));
        break;
      }
    }
  }
  return s.box.run(s.install, s.args, { PATH: `${s.box.bin}:${bin}` });
}
