// The scenario registry, in the order `npm run bench` runs them.
import type { Scenario } from "./common.ts";
import { throughputScenario } from "./throughput.ts";

export const SCENARIOS: readonly Scenario[] = [throughputScenario];
