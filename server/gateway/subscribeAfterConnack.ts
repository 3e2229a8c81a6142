// The subscriptions TbConnection makes after every CONNACK, before it calls itself connected.
import type { MqttClient } from "mqtt";
import type { Logger } from "../util/logger.ts";

/** How long to wait for SUBACK before carrying on without it. */
const SUBACK_WAIT_MS = 5000;

/**
 * Subscribes to `topics` at QoS 1 and calls `done` once SUBACK came (refusals and errors are logged, not fatal)
 * or the wait ran out. `done` may then run twice (timeout, then a late SUBACK), so it must be idempotent.
 */
export function subscribeAfterConnack(client: MqttClient, topics: string[], log: Logger, done: () => void): void {
  if (topics.length === 0) return done();
  // Bounded: a server that never sends SUBACK must not hold up the data path.
  const t = setTimeout(done, SUBACK_WAIT_MS);
  client.subscribe(topics, { qos: 1 }, (err, granted) => {
    clearTimeout(t);
    if (err) log.warn(`subscribe failed: ${err.message}`);
    const refused = (granted ?? []).filter((g) => g.qos > 2).map((g) => g.topic);
    if (refused.length) log.warn(`server refused subscriptions: ${refused.join(", ")}`);
    done();
  });
}
