// The appliance itself for the dashboard: version, uptime, CPU temperature, memory, disk.
// snapshot() must be synchronous and cheap, so slow readings are refreshed in the background.
import { hostname, totalmem, freemem } from "node:os";
import type { AppInfo } from "../events.ts";
import { cpuTemperatureC, disk, memory } from "../util/systemInfo.ts";
import { detach, type ErrorLog } from "../util/detach.ts";

const REFRESH_MS = 10_000;

/** Where the slow readings come from (the real system by default; tests pass failing ones). */
export interface SystemReadings {
  cpuTemperatureC: typeof cpuTemperatureC;
  memory: typeof memory;
  disk: typeof disk;
}
const SYSTEM: SystemReadings = { cpuTemperatureC, memory, disk };

export class AppInfoReader {
  #info: AppInfo;
  #dataDir: string;
  #last = 0;
  #refreshing = false;
  #log: ErrorLog;
  #readings: SystemReadings;

  constructor(
    version: string,
    unit: string,
    hardware: "sim" | "pi",
    dataDir: string,
    log: ErrorLog,
    readings: SystemReadings = SYSTEM,
  ) {
    this.#dataDir = dataDir;
    this.#log = log;
    this.#readings = readings;
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
    if (now - this.#last > REFRESH_MS && !this.#refreshing)
      detach("refreshing system readings", this.#refresh(), this.#log);
    return { ...this.#info, uptimeSec: Math.round((now - this.#info.startedAt) / 1000) };
  }

  async #refresh(): Promise<void> {
    this.#refreshing = true;
    try {
      const r = this.#readings;
      const [temp, mem, d] = await Promise.all([r.cpuTemperatureC(), r.memory(), r.disk(this.#dataDir)]);
      this.#info.cpuTempC = temp;
      this.#info.memory = { totalBytes: mem.totalBytes, freeBytes: mem.availableBytes, rssBytes: mem.rssBytes };
      this.#info.disk = d ? { totalBytes: d.totalBytes, freeBytes: d.availableBytes } : null;
    } finally {
      this.#last = Date.now();
      this.#refreshing = false;
    }
  }
}
