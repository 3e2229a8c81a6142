// The scenario registry, in the order `npm run bench` runs them.
import type { Scenario } from "./common.ts";
import { backlogScenario } from "./backlog.ts";
import { dashboardScenario } from "./dashboard.ts";
import { footprintScenario } from "./footprint.ts";
import { historyScenario } from "./history.ts";
import { latencyScenario } from "./latency.ts";
import { rpcScenario } from "./rpc.ts";
import { throughputScenario } from "./throughput.ts";

export const SCENARIOS: readonly Scenario[] = [
  throughputScenario,
  latencyScenario,
  rpcScenario,
  backlogScenario,
  footprintScenario,
  dashboardScenario,
  historyScenario,
];
