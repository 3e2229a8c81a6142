// The power-loss promise is "at most outbox.diskFlushMs of readings is lost". A reading first waits
// in the bridge's reading buffer for up to thingsboard.flushIntervalMs before the outbox sees it,
// so the outbox gets the rest of the budget (issue 12: with 1000 and 100 the window was 0.7-1.1 s,
// 5 of 12 kill -9 runs over 1 s). The outbox itself keeps within what it is given (outbox.ts).
import type { Config } from "../config/schema.ts";

/** The smallest budget the outbox is given: it then ticks every 25 ms. */
export const MIN_OUTBOX_BUDGET_MS = 50;

export function outboxFlushBudget(c: Pick<Config, "outbox" | "thingsboard">): {
  budgetMs: number;
  promiseKept: boolean;
} {
  const rest = c.outbox.diskFlushMs - c.thingsboard.flushIntervalMs;
  return { budgetMs: Math.max(MIN_OUTBOX_BUDGET_MS, rest), promiseKept: rest >= MIN_OUTBOX_BUDGET_MS };
}
