import { test, describe, after } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { Sandbox, REPO } from "./helpers/sandbox.ts";
import { unitIdentity } from "../../server/util/identity.ts";

const FIRSTBOOT = path.join(REPO, "scripts", "firstboot", "rpi-tb-gateway-firstboot.sh");
const PREPARE = path.join(REPO, "scripts", "firstboot", "prepare-image.sh");
const MARKER = "etc/rpi-tb-gateway/firstboot-pending";

const boxes: Sandbox[] = [];
after(() => {
  for (const b of boxes) b.cleanup();
});

/** A golden Pi that has been running: state in the data dir, host keys, a machine id. */
function goldenPi(config: string) {
  const box = new Sandbox();
  boxes.push(box);
  box.write("etc/rpi-tb-gateway/config.yaml", config);
  box.write("var/lib/rpi-tb-gateway/credentials.json", '{"accessToken":"golden-unit-token"}');
  box.write("var/lib/rpi-tb-gateway/outbox/000001.seg", "golden telemetry");
  box.write("var/lib/rpi-tb-gateway/.dashboard-secret", "s3cret");
  box.write("etc/machine-id", "0123456789abcdef0123456789abcdef\n");
  box.write("etc/ssh/ssh_host_ed25519_key", "PRIVATE");
  box.write("etc/ssh/ssh_host_ed25519_key.pub", "PUBLIC");
  box.write("etc/ssh/sshd_config", "PermitRootLogin no\n");
  box.write("etc/hostname", "raspberrypi\n");
  box.write("etc/hosts", "127.0.0.1\tlocalhost\n127.0.1.1\traspberrypi\n");
  // The flashed Pi's own serial, read by the first boot the same way identity.ts reads it.
  box.write("proc/device-tree/serial-number", "10000000c0ffee42\0");
  return box;
}

const PROVISIONED =
  "thingsboard:\n  host: tb.example.com\n  provision:\n    key: fleet-key\n    secret: fleet-secret\n";

describe("prepare-image.sh (golden Pi, before imaging)", () => {
  test("removes per-unit state and shared secrets, arms the first boot", () => {
    const box = goldenPi(PROVISIONED);
    const res = box.run(PREPARE, ["--root", box.root, "--hostname-from-serial"]);
    assert.equal(res.status, 0, res.stderr);
    assert.deepEqual(fs.readdirSync(box.r("var/lib/rpi-tb-gateway")), []);
    assert.equal(
      box.read("etc/machine-id"),
      "uninitialized\n",
      "as pi-gen leaves it: a new id and first-boot semantics (machine-id(5)); an empty file is not a first boot",
    );
    assert.deepEqual(fs.readdirSync(box.r("etc/ssh")), ["sshd_config"]);
    assert.match(box.read(MARKER), /^hostname_from_serial=1$/m);
    assert.equal(box.read("etc/rpi-tb-gateway/config.yaml"), PROVISIONED, "shared config stays");
    assert.deepEqual(
      res.calls.filter((c) => c.startsWith("systemctl")),
      [`systemctl --root=${box.root} enable rpi-tb-gateway-firstboot.service`],
      "under --root the host's running service is left alone",
    );
  });

  test("Trixie (cloud-init): the boot partition's user-data no longer sets the hostname, and cloud-init keeps the one the first boot sets", () => {
    const box = goldenPi(PROVISIONED);
    box.write("etc/cloud/cloud.cfg", "users: [default]\n");
    const userData = "#cloud-config\nhostname: golden\nmanage_etc_hosts: true\nusers:\n  - name: pi\n";
    box.write("boot/firmware/user-data", userData);
    box.write("boot/firmware/cmdline.txt", "console=tty1 root=PARTUUID=1234-02 rootwait\n");
    const res = box.run(PREPARE, ["--root", box.root, "--hostname-from-serial"]);
    assert.equal(res.status, 0, res.stderr);
    assert.equal(
      box
        .read("etc/cloud/cloud.cfg.d/99-rpi-tb-gateway.cfg")
        .split("\n")
        .filter((l) => !l.startsWith("#"))
        .join(""),
      "preserve_hostname: true",
    );
    const after = box.read("boot/firmware/user-data");
    assert.doesNotMatch(after, /^hostname:/m);
    assert.match(after, /^# rpi-tb-gateway: hostname from the Pi serial instead: hostname: golden$/m);
    assert.match(after, /^manage_etc_hosts: true$/m, "the rest of the customisation stays");
    assert.doesNotMatch(res.stderr, /firstrun/);

    // Without --hostname-from-serial every Pi keeps the golden name, and it says so.
    const same = goldenPi(PROVISIONED);
    same.write("etc/cloud/cloud.cfg", "");
    same.write("boot/firmware/user-data", userData);
    const r2 = same.run(PREPARE, ["--root", same.root]);
    assert.equal(r2.status, 0, r2.stderr);
    assert.match(
      r2.stdout,
      /cloud-init sets the hostname from .*user-data at every boot: every Pi from this image gets the same one/,
    );
    assert.equal(same.read("boot/firmware/user-data"), userData);
    assert.equal(same.exists("etc/cloud/cloud.cfg.d/99-rpi-tb-gateway.cfg"), false);
  });

  test("Bookworm (firstrun.sh): warns when Imager's firstrun.sh is still armed in cmdline.txt", () => {
    const box = goldenPi(PROVISIONED);
    box.write(
      "boot/firmware/cmdline.txt",
      "console=tty1 root=PARTUUID=1234-02 rootwait quiet systemd.run=/boot/firstrun.sh systemd.run_success_action=reboot systemd.unit=kernel-command-line.target\n",
    );
    const res = box.run(PREPARE, ["--root", box.root, "--hostname-from-serial"]);
    assert.equal(res.status, 0, res.stderr);
    assert.match(
      res.stderr,
      /still starts Imager's firstrun\.sh: every Pi from this image would run this card's OS customisation again/,
    );
    assert.equal(
      box.exists("etc/cloud/cloud.cfg.d/99-rpi-tb-gateway.cfg"),
      false,
      "no cloud-init on Bookworm: nothing written for it",
    );
  });

  test("refuses an image with one access token every Pi would share, unless forced", () => {
    const config = "thingsboard:\n  host: tb.example.com\n  accessToken: A1B2C3\n";
    const box = goldenPi(config);
    const res = box.run(PREPARE, ["--root", box.root]);
    assert.notEqual(res.status, 0);
    assert.match(res.stderr, /accessToken, which every Pi from this image would share/);
    assert.ok(box.exists("var/lib/rpi-tb-gateway/credentials.json"), "nothing changed");
    assert.equal(box.exists(MARKER), false);
    const forced = box.run(PREPARE, ["--root", box.root, "--force"]);
    assert.equal(forced.status, 0, forced.stderr);
    assert.match(forced.stderr, /share one gateway device/);
    // A commented-out token is not a token.
    const commented = goldenPi("thingsboard:\n  # accessToken: A1B2C3\n  provision:\n    key: k\n    secret: s\n");
    assert.equal(commented.run(PREPARE, ["--root", commented.root]).status, 0);
  });
});

describe("rpi-tb-gateway-firstboot.sh (each flashed Pi, first boot)", () => {
  function flashed(hostnameFromSerial: boolean) {
    const box = goldenPi(PROVISIONED);
    assert.equal(
      box.run(PREPARE, ["--root", box.root, ...(hostnameFromSerial ? ["--hostname-from-serial"] : [])]).status,
      0,
    );
    // Something wrote into the data dir after the image was prepared (e.g. a test boot).
    box.write("var/lib/rpi-tb-gateway/credentials.json", '{"accessToken":"stale"}');
    return box;
  }

  test("gives the Pi its own host keys and a serial-based hostname, wipes baked state, runs once", () => {
    const box = flashed(true);
    const args = ["--root", box.root, "--proc", box.r("proc")];
    const res = box.run(FIRSTBOOT, args);
    assert.equal(res.status, 0, res.stderr);
    assert.deepEqual(fs.readdirSync(box.r("var/lib/rpi-tb-gateway")), []);
    assert.ok(res.calls.includes(`ssh-keygen -A -f ${box.root}`));
    assert.ok(box.exists("etc/ssh/ssh_host_ed25519_key"));
    // Same name the app gives the unit, so the Pi on the LAN and its devices in ThingsBoard match.
    const unit = unitIdentity({ procRoot: box.r("proc"), hostname: "raspberrypi" }).unit;
    assert.equal(unit, "rpi-c0ffee42");
    assert.equal(box.read("etc/hostname"), `${unit}\n`);
    assert.equal(box.read("etc/hosts"), `127.0.0.1\tlocalhost\n127.0.1.1\t${unit}\n`);
    assert.ok(res.calls.includes(`hostname ${unit}`));
    assert.equal(box.exists(MARKER), false);

    // Second boot: the marker is gone, nothing happens (the unit's condition would skip it too).
    box.write("var/lib/rpi-tb-gateway/credentials.json", '{"accessToken":"provisioned"}');
    const again = box.run(FIRSTBOOT, args);
    assert.equal(again.status, 0);
    assert.deepEqual(again.calls, []);
    assert.ok(box.exists("var/lib/rpi-tb-gateway/credentials.json"), "this unit's own credentials survive later boots");
  });

  test("keeps the hostname unless asked, and when the Pi has no serial", () => {
    const box = flashed(false);
    assert.equal(box.run(FIRSTBOOT, ["--root", box.root, "--proc", box.r("proc")]).status, 0);
    assert.equal(box.read("etc/hostname"), "raspberrypi\n");

    const noSerial = flashed(true);
    fs.rmSync(noSerial.r("proc"), { recursive: true });
    noSerial.write("proc/cpuinfo", "processor\t: 0\nSerial\t\t: 0000000000000000\n");
    const res = noSerial.run(FIRSTBOOT, ["--root", noSerial.root, "--proc", noSerial.r("proc")]);
    assert.equal(res.status, 0, res.stderr);
    assert.match(res.stderr, /no Pi serial number found/);
    assert.equal(noSerial.read("etc/hostname"), "raspberrypi\n");
    assert.equal(noSerial.exists(MARKER), false);
  });

  test("reads the serial from cpuinfo when the device tree has none, like identity.ts", () => {
    const box = flashed(true);
    fs.rmSync(box.r("proc/device-tree"), { recursive: true });
    box.write("proc/cpuinfo", "Hardware\t: BCM2835\nSerial\t\t: 00000000ABCD1234\n");
    assert.equal(box.run(FIRSTBOOT, ["--root", box.root, "--proc", box.r("proc")]).status, 0);
    assert.equal(box.read("etc/hostname"), `${unitIdentity({ procRoot: box.r("proc") }).unit}\n`);
    assert.equal(box.read("etc/hostname"), "rpi-abcd1234\n");
  });

  test("--dry-run changes nothing", () => {
    const box = flashed(true);
    const res = box.run(FIRSTBOOT, ["--root", box.root, "--proc", box.r("proc"), "--dry-run"]);
    assert.equal(res.status, 0, res.stderr);
    assert.ok(box.exists(MARKER));
    assert.ok(box.exists("var/lib/rpi-tb-gateway/credentials.json"));
    assert.match(res.stdout, /\[dry-run\] remove everything inside/);
  });
});
