import { test, describe, after } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import {
  cpuTemperatureC,
  createCpuSampler,
  cpuLoad,
  parseProcStat,
  memory,
  disk,
  ipAddresses,
  osInfo,
  osReleaseValue,
} from "../../../server/util/systemInfo.ts";
import { tempDir } from "../../fakes/tempDir.ts";

const roots: string[] = [];
function tree(files: Record<string, string>): string {
  const root = tempDir("sysinfo-");
  roots.push(root);
  for (const [rel, content] of Object.entries(files)) {
    const p = path.join(root, rel);
    fs.mkdirSync(path.dirname(p), { recursive: true });
    fs.writeFileSync(p, content);
  }
  return root;
}
after(() => {
  for (const r of roots) fs.rmSync(r, { recursive: true, force: true });
});

describe("cpuTemperatureC", () => {
  test("reads millidegrees from the cpu-thermal zone (Pi 4 layout)", async () => {
    const root = tree({ "thermal_zone0/type": "cpu-thermal\n", "thermal_zone0/temp": "48686\n" });
    assert.equal(await cpuTemperatureC(root), 48.7);
  });
  test("prefers the CPU zone over an earlier non-CPU zone", async () => {
    const root = tree({
      "thermal_zone0/type": "acpitz\n",
      "thermal_zone0/temp": "27800\n",
      "thermal_zone1/type": "x86_pkg_temp\n",
      "thermal_zone1/temp": "61000\n",
    });
    assert.equal(await cpuTemperatureC(root), 61);
  });
  test("skips unreadable or implausible values and falls back to another zone", async () => {
    const root = tree({
      "thermal_zone0/type": "cpu-thermal\n",
      "thermal_zone0/temp": "-273000\n",
      "thermal_zone2/type": "gpu\n",
      "thermal_zone2/temp": "40000\n",
    });
    assert.equal(await cpuTemperatureC(root), 40);
  });
  test("null when there is no thermal class at all", async () => {
    assert.equal(await cpuTemperatureC(path.join(os.tmpdir(), "no-such-thermal-root")), null);
    assert.equal(await cpuTemperatureC(tree({ "cooling_device0/type": "fan\n" })), null);
  });
});

describe("cpu load", () => {
  const stat = (user: number, idle: number, iowait = 0) =>
    `cpu  ${user} 0 0 ${idle} ${iowait} 0 0 0 0 0\ncpu0 ${user} 0 0 ${idle} ${iowait} 0 0 0 0 0\nintr 1 2 3\n`;

  test("parseProcStat counts idle and iowait as not busy, and rejects garbage", () => {
    assert.deepEqual(parseProcStat(stat(300, 600, 100)), { busy: 300, total: 1000 });
    assert.equal(parseProcStat("intr 1 2\n"), null);
    assert.equal(parseProcStat("cpu  a b c d\n"), null);
  });

  test("usage is the busy share of the counter delta since the previous sample", async () => {
    const root = tree({ stat: stat(1000, 9000) });
    const sampler = createCpuSampler({ procRoot: root, sampleMs: 1 });
    const first = await sampler.sample();
    assert.equal(first.usagePercent, null, "unchanged counters give no usage rather than 0 %");
    fs.writeFileSync(path.join(root, "stat"), stat(1250, 9750)); // +250 busy of +1000 total
    const second = await sampler.sample();
    assert.equal(second.usagePercent, 25);
    assert.equal(second.loadAvg.length, 3);
    assert.ok(second.cores >= 1);
    assert.equal(typeof second.processPercent, "number");
  });

  test("a missing /proc/stat gives null usage, never an exception", async () => {
    const sampler = createCpuSampler({ procRoot: tree({}), sampleMs: 1 });
    const s = await sampler.sample();
    assert.equal(s.usagePercent, null);
  });

  test("the default reader works against the real machine", async () => {
    const s = await cpuLoad();
    assert.ok(s.usagePercent === null || (s.usagePercent >= 0 && s.usagePercent <= 100));
    assert.ok(s.loadAvg.every((n) => n >= 0));
  });
});

describe("memory and disk", () => {
  test("memory reads /proc/meminfo in kB", async () => {
    const root = tree({
      meminfo: "MemTotal:        3884096 kB\nMemFree:          215648 kB\nMemAvailable:    2917380 kB\nBuffers: 1 kB\n",
    });
    const m = await memory(root);
    assert.equal(m.totalBytes, 3884096 * 1024);
    assert.equal(m.freeBytes, 215648 * 1024);
    assert.equal(m.availableBytes, 2917380 * 1024);
    assert.ok(m.rssBytes > 0);
  });
  test("memory falls back to the os module when meminfo is absent", async () => {
    const m = await memory(tree({}));
    assert.equal(m.totalBytes, os.totalmem());
    assert.ok(m.freeBytes > 0 && m.freeBytes <= m.totalBytes);
  });
  test("disk reports the file system of a temp dir, null for a missing path", async () => {
    const d = await disk(os.tmpdir());
    assert.ok(d !== null);
    assert.ok(d.totalBytes > 0 && d.freeBytes <= d.totalBytes && d.availableBytes <= d.freeBytes);
    assert.ok(d.usedPercent >= 0 && d.usedPercent <= 100);
    assert.equal(await disk(path.join(os.tmpdir(), "no-such-dir-sysinfo", "x")), null);
  });
});

describe("network and OS", () => {
  test("ipAddresses drops loopback and lists IPv4 before IPv6", async () => {
    const mk = (address: string, family: "IPv4" | "IPv6", internal: boolean): os.NetworkInterfaceInfo =>
      family === "IPv4"
        ? { address, family, internal, netmask: "255.255.255.0", mac: "00:00:00:00:00:00", cidr: null }
        : { address, family, internal, netmask: "ffff::", mac: "00:00:00:00:00:00", cidr: null, scopeid: 0 };
    const got = await ipAddresses({
      lo: [mk("127.0.0.1", "IPv4", true), mk("::1", "IPv6", true)],
      wlan0: [mk("fe80::1", "IPv6", false), mk("192.168.1.23", "IPv4", false)],
      eth0: undefined,
    });
    assert.deepEqual(got, [
      { iface: "wlan0", family: "IPv4", address: "192.168.1.23" },
      { iface: "wlan0", family: "IPv6", address: "fe80::1" },
    ]);
  });

  test("osReleaseValue handles quoting and escapes", () => {
    const text = 'NAME="Debian GNU/Linux"\nPRETTY_NAME="Raspbian \\"GNU\\"/Linux 12 (bookworm)"\nID=raspbian\nEMPTY=\n';
    assert.equal(osReleaseValue(text, "PRETTY_NAME"), 'Raspbian "GNU"/Linux 12 (bookworm)');
    assert.equal(osReleaseValue(text, "ID"), "raspbian");
    assert.equal(osReleaseValue(text, "EMPTY"), null);
    assert.equal(osReleaseValue(text, "VERSION"), null);
  });

  test("osInfo reads PRETTY_NAME from etc, then /usr/lib, and always has the kernel", async () => {
    const etc = tree({ "os-release": 'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\n' });
    const info = await osInfo({ etcRoot: etc });
    assert.equal(info.prettyName, "Debian GNU/Linux 12 (bookworm)");
    assert.equal(info.kernel, os.release());
    assert.equal(info.node, process.version);
    const usrLib = tree({ "os-release": "PRETTY_NAME='Raspberry Pi OS'\n" });
    assert.equal((await osInfo({ etcRoot: tree({}), usrLibRoot: usrLib })).prettyName, "Raspberry Pi OS");
    assert.equal((await osInfo({ etcRoot: tree({}), usrLibRoot: tree({}) })).prettyName, null);
  });
});
