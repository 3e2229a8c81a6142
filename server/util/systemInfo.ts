// Cheap readers of the Pi's own health for the gateway's stats telemetry and the dashboard.
// Each reader is async and never throws: a missing file or an odd kernel answers null/empty,
// because a stats tick that crashes the appliance would be worse than a missing number.
import { readFile, readdir, statfs } from "node:fs/promises";
import os from "node:os";
import { join } from "node:path";
import { setTimeout as delay } from "node:timers/promises";

async function readText(path: string): Promise<string | null> {
  try {
    return await readFile(path, "utf8");
  } catch {
    return null;
  }
}

// ---------------------------------------------------------------- CPU temperature

/** Zone types that are the SoC itself: "cpu-thermal" on Pi (bcm2711/bcm2712), "soc-thermal" elsewhere, "x86_pkg_temp" on PCs. */
const CPU_ZONE = /cpu|soc|x86_pkg/i;

/**
 * SoC temperature in °C (one decimal), from /sys/class/thermal/thermal_zone*\/temp, which the
 * kernel reports in millidegrees Celsius (Documentation/driver-api/thermal/sysfs-api.rst).
 * Prefers a zone whose type names the CPU; null when no zone gives a plausible value.
 */
export async function cpuTemperatureC(root = "/sys/class/thermal"): Promise<number | null> {
  let names: string[];
  try {
    names = (await readdir(root)).filter((n) => /^thermal_zone\d+$/.test(n));
  } catch {
    return null;
  }
  names.sort((a, b) => Number(a.slice(12)) - Number(b.slice(12)));
  const zones = await Promise.all(
    names.map(async (n) => ({
      type: (await readText(join(root, n, "type")))?.trim() ?? "",
      temp: await readText(join(root, n, "temp")),
    })),
  );
  const ordered = [...zones.filter((z) => CPU_ZONE.test(z.type)), ...zones.filter((z) => !CPU_ZONE.test(z.type))];
  for (const z of ordered) {
    const milli = Number.parseInt(z.temp?.trim() ?? "", 10);
    // Unreadable sensors report errors as huge or negative sentinels; keep the physically possible range.
    if (Number.isFinite(milli) && milli > -40_000 && milli < 150_000) return Math.round(milli / 100) / 10;
  }
  return null;
}

// ---------------------------------------------------------------- CPU load

export interface CpuLoad {
  /** 1, 5 and 15 minute load averages. */
  loadAvg: [number, number, number];
  cores: number;
  /** Whole-machine CPU busy % since the previous sample (0-100), null when unknown. */
  usagePercent: number | null;
  /** This process's CPU % of one core over the same window (may exceed 100 with worker threads). */
  processPercent: number | null;
}

interface CpuTimes {
  busy: number;
  total: number;
}

/**
 * Parses the aggregate "cpu" line of /proc/stat (proc(5)): user nice system idle iowait irq
 * softirq steal ...; idle and iowait are the not-busy columns. guest/guest_nice are already
 * included in user/nice, so only the first eight columns are summed.
 */
export function parseProcStat(text: string): CpuTimes | null {
  const line = text.split("\n").find((l) => l.startsWith("cpu "));
  if (!line) return null;
  const cols = line.trim().split(/\s+/).slice(1, 9).map(Number);
  if (cols.length < 4 || cols.some((n) => !Number.isFinite(n))) return null;
  const total = cols.reduce((a, b) => a + b, 0);
  const idle = (cols[3] ?? 0) + (cols[4] ?? 0);
  return { busy: total - idle, total };
}

function osCpuTimes(): CpuTimes | null {
  const cpus = os.cpus();
  if (cpus.length === 0) return null;
  let busy = 0;
  let total = 0;
  for (const c of cpus) {
    const t = c.times;
    busy += t.user + t.nice + t.sys + t.irq;
    total += t.user + t.nice + t.sys + t.irq + t.idle;
  }
  return { busy, total };
}

interface Sample {
  cpu: CpuTimes | null;
  proc: NodeJS.CpuUsage;
  at: number;
}

export interface CpuSampler {
  sample(): Promise<CpuLoad>;
}

/**
 * Usage is a difference of two counter samples. The sampler keeps the previous one, so a stats
 * tick every 60 s reports the average over those 60 s; only the very first call waits sampleMs
 * to get a second sample.
 */
export function createCpuSampler(opts: { procRoot?: string; sampleMs?: number } = {}): CpuSampler {
  const procRoot = opts.procRoot ?? "/proc";
  const sampleMs = opts.sampleMs ?? 200;
  let prev: Sample | null = null;

  async function take(): Promise<Sample> {
    const text = await readText(join(procRoot, "stat"));
    const cpu = text !== null ? parseProcStat(text) : opts.procRoot === undefined ? osCpuTimes() : null;
    return { cpu, proc: process.cpuUsage(), at: performance.now() };
  }

  return {
    async sample(): Promise<CpuLoad> {
      const [l1 = 0, l5 = 0, l15 = 0] = os.loadavg();
      const cores = Math.max(1, os.availableParallelism());
      try {
        if (prev === null) {
          prev = await take();
          await delay(sampleMs);
        }
        const now = await take();
        const before = prev;
        prev = now;
        let usagePercent: number | null = null;
        if (before.cpu && now.cpu) {
          const dt = now.cpu.total - before.cpu.total;
          if (dt > 0) usagePercent = clampPct(((now.cpu.busy - before.cpu.busy) / dt) * 100);
        }
        const wallUs = (now.at - before.at) * 1000;
        const procUs = now.proc.user + now.proc.system - (before.proc.user + before.proc.system);
        const processPercent = wallUs > 0 ? Math.round((procUs / wallUs) * 1000) / 10 : null;
        return { loadAvg: [l1, l5, l15], cores, usagePercent, processPercent };
      } catch {
        return { loadAvg: [l1, l5, l15], cores, usagePercent: null, processPercent: null };
      }
    },
  };
}

function clampPct(p: number): number {
  return Math.round(Math.min(100, Math.max(0, p)) * 10) / 10;
}

const defaultSampler = createCpuSampler();

/** Load averages and CPU usage since the previous call (the first call samples for 200 ms). */
export function cpuLoad(): Promise<CpuLoad> {
  return defaultSampler.sample();
}

// ---------------------------------------------------------------- memory

export interface MemoryInfo {
  totalBytes: number;
  freeBytes: number;
  /** What can be allocated without swapping (MemAvailable, kernel 3.14+); free memory when unknown. */
  availableBytes: number;
  rssBytes: number;
}

/** From /proc/meminfo (values in kB), falling back to os.totalmem/freemem. */
export async function memory(procRoot = "/proc"): Promise<MemoryInfo> {
  const rssBytes = safeRss();
  const text = await readText(join(procRoot, "meminfo"));
  const kb = new Map<string, number>();
  for (const line of (text ?? "").split("\n")) {
    const m = /^(\w+):\s+(\d+)\s*kB/.exec(line);
    if (m?.[1] && m[2]) kb.set(m[1], Number(m[2]) * 1024);
  }
  const total = kb.get("MemTotal");
  const free = kb.get("MemFree");
  if (total !== undefined && free !== undefined) {
    return { totalBytes: total, freeBytes: free, availableBytes: kb.get("MemAvailable") ?? free, rssBytes };
  }
  const osFree = os.freemem();
  return { totalBytes: os.totalmem(), freeBytes: osFree, availableBytes: osFree, rssBytes };
}

function safeRss(): number {
  try {
    return process.memoryUsage.rss();
  } catch {
    return 0;
  }
}

// ---------------------------------------------------------------- disk

export interface DiskInfo {
  totalBytes: number;
  freeBytes: number;
  /** Free to an unprivileged user (root keeps a reserve, 5 % by default on ext4). */
  availableBytes: number;
  usedPercent: number;
}

/** Size of the file system holding path (the data dir on the SD card); null when it cannot be read. */
export async function disk(path: string): Promise<DiskInfo | null> {
  try {
    const s = await statfs(path);
    const totalBytes = s.blocks * s.bsize;
    const freeBytes = s.bfree * s.bsize;
    const availableBytes = s.bavail * s.bsize;
    const usedPercent = totalBytes > 0 ? clampPct(((totalBytes - freeBytes) / totalBytes) * 100) : 0;
    return { totalBytes, freeBytes, availableBytes, usedPercent };
  } catch {
    return null;
  }
}

// ---------------------------------------------------------------- network

export interface IpAddress {
  iface: string;
  family: "IPv4" | "IPv6";
  address: string;
}

/** Non-loopback addresses, IPv4 first, so the dashboard can say "open http://<ip>:8080". */
export async function ipAddresses(
  ifaces: NodeJS.Dict<os.NetworkInterfaceInfo[]> = safeInterfaces(),
): Promise<IpAddress[]> {
  const out: IpAddress[] = [];
  for (const [iface, infos] of Object.entries(ifaces)) {
    for (const info of infos ?? []) {
      if (info.internal) continue;
      out.push({ iface, family: info.family === "IPv4" ? "IPv4" : "IPv6", address: info.address });
    }
  }
  return out.sort((a, b) => (a.family === b.family ? 0 : a.family === "IPv4" ? -1 : 1));
}

function safeInterfaces(): NodeJS.Dict<os.NetworkInterfaceInfo[]> {
  try {
    return os.networkInterfaces();
  } catch {
    return {};
  }
}

// ---------------------------------------------------------------- OS

export interface OsInfo {
  /** PRETTY_NAME from os-release, e.g. "Debian GNU/Linux 12 (bookworm)"; null when absent. */
  prettyName: string | null;
  kernel: string;
  arch: string;
  node: string;
  uptimeSec: number;
}

/** Value of one key of an os-release(5) file: shell-style KEY=value, optionally quoted. */
export function osReleaseValue(text: string, key: string): string | null {
  for (const line of text.split("\n")) {
    const m = /^([A-Z0-9_]+)=(.*)$/.exec(line.trim());
    if (!m || m[1] !== key) continue;
    let v = (m[2] ?? "").trim();
    const q = v[0];
    if ((q === '"' || q === "'") && v.endsWith(q) && v.length >= 2) v = v.slice(1, -1);
    v = v.replace(/\\(["'$`\\])/g, "$1");
    return v.length > 0 ? v : null;
  }
  return null;
}

/** os-release lives in /etc, with /usr/lib/os-release as the vendor fallback (os-release(5)). */
export async function osInfo(opts: { etcRoot?: string; usrLibRoot?: string } = {}): Promise<OsInfo> {
  const text =
    (await readText(join(opts.etcRoot ?? "/etc", "os-release"))) ??
    (await readText(join(opts.usrLibRoot ?? "/usr/lib", "os-release")));
  return {
    prettyName: text !== null ? osReleaseValue(text, "PRETTY_NAME") : null,
    kernel: os.release(),
    arch: os.arch(),
    node: process.version,
    uptimeSec: Math.round(os.uptime()),
  };
}
