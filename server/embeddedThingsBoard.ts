// The demo's embedded ThingsBoard, as the server sees it. The server never imports the emulator
// (scripts/emulator): the demo's entry point (scripts/demo.ts) provides a starter here, so the
// Pi's bundle (server/main.ts) carries no emulator code and the demo bundle does.
import type { Logger } from "./util/logger.ts";

/** A running ThingsBoard stand-in on loopback. */
export interface EmbeddedThingsBoard {
  readonly mqttPort: number;
  readonly httpPort: number | null;
  stop(): Promise<void>;
}

export interface EmbeddedThingsBoardOptions {
  /** The gateway device it knows, with the token the appliance connects with. */
  gateway: { name: string; accessToken: string };
  /** Preferred ports (0 = any free port); a starter may fall back to free ports. */
  mqttPort: number;
  httpPort: number;
  log: Logger;
}

export type StartEmbeddedThingsBoard<T extends EmbeddedThingsBoard = EmbeddedThingsBoard> = (
  o: EmbeddedThingsBoardOptions,
) => Promise<T>;

let provided: StartEmbeddedThingsBoard | null = null;

/** Called by the demo's entry point before it loads server/main.ts. */
export function provideEmbeddedThingsBoard(start: StartEmbeddedThingsBoard): void {
  provided = start;
}

/** The starter the entry point provided, or null in the appliance's own bundle. */
export function embeddedThingsBoard(): StartEmbeddedThingsBoard | null {
  return provided;
}
