// The emulator embedded in the demo (npm start with no config): ThingsBoard on loopback knowing the
// demo's gateway. If the preferred ports are taken (another broker on 1883?), any free ports do.
import { startEmulator, type Emulator } from "./index.ts";
import type { EmulatorLog } from "./log.ts";

export interface DemoThingsBoardOptions {
  gateway: { name: string; accessToken: string };
  mqttPort: number;
  httpPort: number;
  log: EmulatorLog;
}

export async function startDemoThingsBoard(o: DemoThingsBoardOptions): Promise<Emulator> {
  const opts = { gateways: [o.gateway], log: o.log };
  try {
    return await startEmulator({ ...opts, mqttPort: o.mqttPort, httpPort: o.httpPort });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "EADDRINUSE") throw err;
    o.log.warn(`emulator ports ${o.mqttPort}/${o.httpPort} are in use; using free ports`);
    return startEmulator({ ...opts, mqttPort: 0, httpPort: 0 });
  }
}
