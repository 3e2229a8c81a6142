import { test, describe, after } from "node:test";
import assert from "node:assert/strict";
import path from "node:path";
import { Sandbox, fakeCheckout, APP, CURRENT } from "./helpers/sandbox.ts";

const boxes: Sandbox[] = [];
after(() => {
  for (const b of boxes) b.cleanup();
});

/** A sandbox with the app installed by the real install.sh, as a user would have it. */
function installed() {
  const box = new Sandbox();
  boxes.push(box);
  const src = fakeCheckout(box.dir);
  box.write("etc/group", "gpio:x:997:\ni2c:x:998:\nrpi-tb-gateway:x:990:\n");
  box.write("etc/passwd", "rpi-tb-gateway:x:990:990::/var/lib/rpi-tb-gateway:/usr/sbin/nologin\n");
  const inst = box.run(path.join(src, "scripts", "install.sh"), ["--root", box.root, "--source", src]);
  assert.equal(inst.status, 0, inst.stderr);
  box.write("var/lib/rpi-tb-gateway/outbox.db", "queued telemetry");
  box.write("etc/systemd/system/rpi-tb-gateway.service.d/override.conf", "[Service]\nEnvironment=X=1\n");
  return { box, uninstall: path.join(src, "scripts", "uninstall.sh") };
}

describe("uninstall.sh", () => {
  test("removes app, units, drop-ins and user; keeps config and data and says so", () => {
    const { box, uninstall } = installed();
    const res = box.run(uninstall, ["--root", box.root]);
    assert.equal(res.status, 0, res.stderr);
    assert.equal(box.exists(APP), false);
    assert.equal(box.exists("etc/systemd/system/rpi-tb-gateway.service"), false);
    assert.equal(box.exists("etc/systemd/system/rpi-tb-gateway-firstboot.service"), false);
    assert.equal(box.exists("etc/systemd/system/rpi-tb-gateway.service.d"), false);
    assert.ok(box.exists("etc/rpi-tb-gateway/config.yaml"));
    assert.equal(box.read("var/lib/rpi-tb-gateway/outbox.db"), "queued telemetry");
    assert.match(
      res.stdout,
      /Kept your configuration in \/etc\/rpi-tb-gateway and your data in \/var\/lib\/rpi-tb-gateway/,
    );
    for (const call of [
      `systemctl --root=${box.root} disable rpi-tb-gateway.service`,
      `systemctl --root=${box.root} disable rpi-tb-gateway-firstboot.service`,
      `userdel --prefix ${box.root} rpi-tb-gateway`,
    ]) {
      assert.ok(res.calls.includes(call), `expected call: ${call}\n${res.calls.join("\n")}`);
    }
    // stop and daemon-reload would act on this machine's systemd, not on DIR.
    assert.deepEqual(
      res.calls.filter((c) => /^systemctl (stop|daemon-reload)/.test(c)),
      [],
    );
    assert.equal(
      res.calls.some((c) => c.startsWith("groupdel")),
      false,
      "gpio and i2c groups stay",
    );
  });

  test("--purge also removes config and data; a second run is harmless", () => {
    const { box, uninstall } = installed();
    assert.equal(box.run(uninstall, ["--root", box.root, "--purge"]).status, 0);
    assert.equal(box.exists("etc/rpi-tb-gateway"), false);
    assert.equal(box.exists("var/lib/rpi-tb-gateway"), false);
    box.write("etc/passwd", "");
    const again = box.run(uninstall, ["--root", box.root]);
    assert.equal(again.status, 0, again.stderr);
    assert.equal(
      again.calls.some((c) => c.startsWith("userdel")),
      false,
    );
  });

  test("--dry-run removes nothing", () => {
    const { box, uninstall } = installed();
    const res = box.run(uninstall, ["--root", box.root, "--dry-run", "--purge"]);
    assert.equal(res.status, 0, res.stderr);
    assert.deepEqual(res.calls, []);
    assert.ok(box.exists(`${CURRENT}/server/main.ts`));
    assert.match(res.stdout, /\[dry-run\] rm -rf .*opt\/rpi-tb-gateway/);
    assert.doesNotMatch(res.stdout, /systemctl (stop|daemon-reload)/, "under --root the host's systemd is left alone");
  });

  test("on the live system (dry run) it reloads systemd", () => {
    const { box, uninstall } = installed();
    const res = box.run(uninstall, ["--dry-run"]);
    assert.equal(res.status, 0, res.stderr);
    assert.match(res.stdout, /\[dry-run\] systemctl daemon-reload/);
    assert.deepEqual(res.calls, []);
  });
});
