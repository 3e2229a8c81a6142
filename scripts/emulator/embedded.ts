// The emulator embedded in the demo (npm start with no config): ThingsBoard on loopback knowing the
// demo's gateway, on the well-known ports (MQTT 1883, REST 9090) so that the README's commands work
// as printed. When one of them is taken (a local Mosquitto on 1883, another program on 9090), only
// that side moves to a free port, and the warning names it (issue 13).
import { startEmulator, type Emulator } from "./index.ts";
import type { EmulatorLog } from "./log.ts";

export interface DemoThingsBoardOptions {
  gateway: { name: string; accessToken: string };
  mqttPort: number;
  httpPort: number;
  log: EmulatorLog;
}

const SIDES = { mqtt: "MQTT", http: "REST" } as const;
type Side = keyof typeof SIDES;

export async function startDemoThingsBoard(o: DemoThingsBoardOptions): Promise<Emulator> {
  const opts = { gateways: [o.gateway], log: o.log };
  const ports: Record<Side, number> = { mqtt: o.mqttPort, http: o.httpPort };
  // Each retry moves one more side to a free port (or both when the error names neither): this ends.
  for (let attempt = 0; ; attempt++) {
    try {
      return await startEmulator({ ...opts, mqttPort: ports.mqtt, httpPort: ports.http });
    } catch (err) {
      const e = err as NodeJS.ErrnoException & { port?: unknown };
      if (e.code !== "EADDRINUSE" || attempt >= 2) throw err;
      const side = (Object.keys(SIDES) as Side[]).find((k) => ports[k] !== 0 && ports[k] === e.port);
      if (!side) {
        o.log.warn(`emulator: ${e.message}; using free ports for MQTT and REST`);
        ports.mqtt = 0;
        ports.http = 0;
        continue;
      }
      const other: Side = side === "mqtt" ? "http" : "mqtt";
      o.log.warn(
        `emulator: port ${ports[side]} is in use, so its ${SIDES[side]} side takes a free port instead${ports[other] ? ` (${SIDES[other]} stays on ${ports[other]})` : ""}`,
      );
      ports[side] = 0;
    }
  }
}
