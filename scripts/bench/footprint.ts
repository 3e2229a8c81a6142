// Scenario 5, footprint: the appliance itself as a child, run as on the Pi: plain node on the
// bundle from scripts/build-server.mjs (`node dist/rpi-tb-gateway.mjs`, built first if stale),
// against the emulator child, once with the demo devices and once with a generated config of 200
// simulated devices at 1 Hz. RSS and CPU are sampled from /proc over the window; start-up time is
// spawn -> first telemetry record at the emulator.
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { DEMO_GATEWAY_TOKEN } from "../../server/demo.ts";
import { DEFAULT_ADDRESS, type ConfigInput } from "../../server/config/schema.ts";
import { atMost, procSample, row, sleep, type BenchRow, type Scenario, type ScenarioContext } from "./common.ts";
import { BENCH_GATEWAY_TOKEN, EmulatorProcess } from "./emulatorProcess.ts";

const NAME = "footprint";
const ROOT = fileURLToPath(new URL("../../", import.meta.url));

/** Addresses each chip can take (datasheets: BME280 SDO -> 0x76/0x77, SHT3x ADDR -> 0x44/0x45, BH1750 ADDR -> 0x23/0x5C, ADS1115 ADDR -> 0x48-0x4B). */
const ADDRESSES: Array<{ chip: "bme280" | "sht31" | "bh1750" | "ads1115"; address: number }> = [
  { chip: "bme280", address: DEFAULT_ADDRESS.bme280 },
  { chip: "bme280", address: 0x77 },
  { chip: "sht31", address: DEFAULT_ADDRESS.sht31 },
  { chip: "sht31", address: 0x45 },
  { chip: "bh1750", address: DEFAULT_ADDRESS.bh1750 },
  { chip: "bh1750", address: 0x5c },
  { chip: "ads1115", address: 0x48 },
  { chip: "ads1115", address: 0x49 },
  { chip: "ads1115", address: 0x4a },
  { chip: "ads1115", address: 0x4b },
];

/** 190 sensors at 1 Hz reporting every reading (19 buses x 10 addresses) and 10 GPIO devices (2 relays + 1 input each). */
export function manyDevicesConfig(port: number, dataDir: string, sensors = 190, gpioDevices = 10): ConfigInput {
  const devices: NonNullable<ConfigInput["devices"]> = [];
  for (let i = 0; i < sensors; i++) {
    const slot = ADDRESSES[i % ADDRESSES.length] as (typeof ADDRESSES)[number];
    devices.push({
      id: `s${i}`,
      kind: "sensor",
      chip: slot.chip,
      bus: 1 + Math.floor(i / ADDRESSES.length),
      address: slot.address,
      intervalSec: 1,
      report: { strategy: "every" },
    });
  }
  // BCM 0-27 has 28 pins: at most 9 devices of 3 pins; use 2 outputs + 1 input while pins last, then outputs only.
  let pin = 0;
  for (let i = 0; i < gpioDevices && pin + 1 < 28; i++) {
    const outputs = [{ pin: pin++ }, { pin: pin++ }];
    const inputs = pin < 28 && i < 9 ? [{ pin: pin++ }] : [];
    devices.push({ id: `g${i}`, kind: "gpio", outputs, inputs, report: { strategy: "onChange" } });
  }
  return {
    hardware: "sim",
    thingsboard: { host: "127.0.0.1", port, accessToken: BENCH_GATEWAY_TOKEN },
    http: { port: 0, host: "127.0.0.1" },
    dataDir,
    log: { level: "warn" },
    devices,
  };
}

/** Builds dist/ when a source is newer than it (a no-op otherwise); returns the entry to run. */
export function buildBundle(): string {
  const res = spawnSync(process.execPath, [join(ROOT, "scripts", "build-server.mjs")], {
    cwd: ROOT,
    encoding: "utf8",
    timeout: 120_000,
  });
  if (res.status !== 0) throw new Error(`build-server.mjs failed (${res.status}): ${res.stderr}`);
  return join(ROOT, "dist", "rpi-tb-gateway.mjs");
}

export interface FootprintRun {
  startupMs: number;
  rssMeanMb: number;
  rssMaxMb: number;
  cpuPercentOfCore: number;
  pointsPerSec: number;
  samples: number;
}

/** The node flags of the systemd unit's ExecStart (scripts/rpi-tb-gateway.service) and `npm start`: measure what runs on the Pi. */
export const APPLIANCE_NODE_FLAGS: readonly string[] = ["--max-semi-space-size=1", "--max-old-space-size=128"];

/** Variants to compare against the unit's settings (docs/benchmarks.md): other node flags, extra environment. */
export interface ApplianceVariant {
  nodeFlags?: readonly string[];
  env?: Record<string, string>;
}

export async function measureAppliance(
  entry: string,
  withConfig: boolean,
  seconds: number,
  variant: ApplianceVariant = {},
): Promise<FootprintRun> {
  const dir = mkdtempSync(join(tmpdir(), "bench-footprint-"));
  const emu = await EmulatorProcess.start({
    gateways: [{ name: "Bench Gateway", accessToken: withConfig ? BENCH_GATEWAY_TOKEN : DEMO_GATEWAY_TOKEN }],
  });
  let child: ChildProcess | null = null;
  let stderr = "";
  try {
    const args = [...(variant.nodeFlags ?? APPLIANCE_NODE_FLAGS), entry];
    if (withConfig) {
      const file = join(dir, "config.yaml");
      // JSON is YAML: the generated config goes through the same loader a user's file does.
      writeFileSync(file, JSON.stringify(manyDevicesConfig(emu.mqttPort, join(dir, "data")), null, 1));
      args.push("--config", file);
    }
    // TB_HOST means a real server to the demo, which then wants its token said out loud (issue 18).
    const env = {
      ...process.env,
      TB_HOST: "127.0.0.1",
      TB_PORT: String(emu.mqttPort),
      TB_ACCESS_TOKEN: withConfig ? BENCH_GATEWAY_TOKEN : DEMO_GATEWAY_TOKEN,
      HTTP_PORT: "0",
      DATA_DIR: join(dir, "data"),
      LOG_LEVEL: "warn",
      ...variant.env,
    };
    const spawnedAt = Date.now();
    child = spawn(process.execPath, args, { cwd: ROOT, env, stdio: ["ignore", "ignore", "pipe"] });
    child.stderr?.on("data", (b: Buffer) => (stderr = (stderr + b.toString()).slice(-4000)));
    const pid = child.pid ?? -1;
    let first: number | null = null;
    const deadline = Date.now() + 60_000;
    while (first === null) {
      if (child.exitCode !== null) throw new Error(`appliance exited with ${child.exitCode}: ${stderr}`);
      if (Date.now() > deadline) throw new Error(`no telemetry within 60 s: ${stderr}`);
      first = (await emu.counts()).firstTelemetryAt;
      if (first === null) await sleep(20);
    }
    await sleep(2000); // past start-up work (JIT, first reads, announce)
    const c0 = await emu.counts();
    const s0 = procSample(pid);
    if (!s0) throw new Error("cannot read /proc for the appliance");
    const t0 = Date.now();
    const rss: number[] = [];
    let last = s0;
    for (let i = 0; i < seconds; i++) {
      await sleep(1000);
      const s = procSample(pid);
      if (!s) throw new Error(`appliance stopped: ${stderr}`);
      rss.push(s.rssBytes);
      last = s;
    }
    const elapsed = (Date.now() - t0) / 1000;
    const c1 = await emu.counts();
    return {
      startupMs: first - spawnedAt,
      rssMeanMb: rss.reduce((a, b) => a + b, 0) / rss.length / 2 ** 20,
      rssMaxMb: Math.max(...rss) / 2 ** 20,
      cpuPercentOfCore: ((last.cpuSec - s0.cpuSec) / elapsed) * 100,
      pointsPerSec: (c1.points - c0.points) / elapsed,
      samples: rss.length,
    };
  } finally {
    if (child && child.exitCode === null) {
      const c = child;
      const exited = new Promise<void>((r) => c.once("exit", () => r()));
      c.kill("SIGTERM");
      const t = setTimeout(() => c.kill("SIGKILL"), 10_000);
      await exited;
      clearTimeout(t);
    }
    await emu.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

export const footprintScenario: Scenario = {
  name: NAME,
  describe:
    "RSS and CPU of the bundled appliance (node dist/rpi-tb-gateway.mjs): demo devices, and 200 simulated devices at 1 Hz; start-up time",
  async run(ctx: ScenarioContext): Promise<BenchRow[]> {
    const rows: BenchRow[] = [];
    const entry = buildBundle();
    const seconds = ctx.quick ? 8 : 60;
    for (const [label, withConfig] of [
      ["demo", false],
      ["200 devices @ 1 Hz", true],
    ] as const) {
      ctx.progress(`footprint: ${label}, ${seconds} s`);
      const r = await measureAppliance(entry, withConfig, seconds);
      rows.push(row(NAME, `${label}: start-up to first telemetry`, r.startupMs, "ms"));
      rows.push(
        row(
          NAME,
          `${label}: RSS mean over ${r.samples} s`,
          r.rssMeanMb,
          "MB",
          withConfig ? atMost(Number(r.rssMeanMb.toFixed(1)), 80) : {},
        ),
      );
      rows.push(row(NAME, `${label}: RSS max`, r.rssMaxMb, "MB"));
      rows.push(
        row(
          NAME,
          `${label}: CPU`,
          r.cpuPercentOfCore,
          "% of a core",
          withConfig ? {} : atMost(Number(r.cpuPercentOfCore.toFixed(2)), 2),
        ),
      );
      rows.push(row(NAME, `${label}: data points/s delivered`, r.pointsPerSec, "dp/s"));
    }
    return rows;
  },
};
