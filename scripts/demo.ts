// The demo's entry point (npm start, npm run dev): the appliance of server/main.ts with the
// ThingsBoard emulator embedded for when there is no config file. The demo is composed here, where
// the entry point is, so the appliance's own bundle (server/main.ts, what the Pi runs) carries no
// emulator code (docs/architecture.md). With --config FILE this runs exactly the appliance.
import { provideEmbeddedThingsBoard } from "../server/embeddedThingsBoard.ts";
import { startDemoThingsBoard } from "./emulator/embedded.ts";

provideEmbeddedThingsBoard(startDemoThingsBoard);
await import("../server/main.ts");
