// The appliance itself for the dashboard: version, uptime, CPU temperature, memory, disk.
// snapshot() must be synchronous and cheap, so slow readings are refreshed in the background.
import { hostname, totalmem, freemem } from "node:os";
import type { AppInfo } from "../events.ts";
import { cpuTemperatureC, disk, memory } from "../util/systemInfo.ts";

const REFRESH_MS = 10_000;

export class AppInfoReader {
  #info: AppInfo;
  #dataDir: string;
  #last = 0;
  #refreshing = false;

  constructor(version: string, unit: string, hardware: "sim" | "pi", dataDir: string) {
    this.#dataDir = dataDir;
    this.#info = {
      version,
      unit,
      hostname: hostname(),
      startedAt: Date.now(),
      uptimeSec: 0,
      cpuTempC: null,
      memory: { totalBytes: totalmem(), freeBytes: freemem(), rssBytes: process.memoryUsage.rss() },
      disk: null,
      hardware,
    };
  }

  read(): AppInfo {
    const now = Date.now();
    if (now - this.#last > REFRESH_MS && !this.#refreshing) void this.#refresh();
    return { ...this.#info, uptimeSec: Math.round((now - this.#info.startedAt) / 1000) };
  }

  async #refresh(): Promise<void> {
    this.#refreshing = true;
    try {
      const [temp, mem, d] = await Promise.all([cpuTemperatureC(), memory(), disk(this.#dataDir)]);
      this.#info.cpuTempC = temp;
      this.#info.memory = { totalBytes: mem.totalBytes, freeBytes: mem.availableBytes, rssBytes: mem.rssBytes };
      this.#info.disk = d ? { totalBytes: d.totalBytes, freeBytes: d.availableBytes } : null;
    } finally {
      this.#last = Date.now();
      this.#refreshing = false;
    }
  }
}
