// Which SUBSCRIBE filters ThingsBoard accepts (reference §3.10) and how it picks the QoS of its
// own publishes (§2: first matching subscription, else QoS 1).

export type FilterKind = "attributes" | "rpc" | "qosOnly" | "provision";

const ATTRIBUTE_FILTERS = new Set(["v1/devices/me/attributes", "v2/a", "v2/a/j", "v2/a/p"]);
const RPC_FILTERS = new Set(["v1/devices/me/rpc/request/+", "v2/r/req/+", "v2/r/req/j/+", "v2/r/req/p/+"]);
const QOS_ONLY_FILTERS = new Set([
  "v1/devices/me/rpc/response/+",
  "v1/devices/me/attributes/response/+",
  "v2/r/res/+",
  "v2/r/res/j/+",
  "v2/r/res/p/+",
  "v2/a/res/+",
  "v2/a/res/j/+",
  "v2/a/res/p/+",
  "v1/gateway/attributes",
  "v1/gateway/rpc",
  "v1/gateway/attributes/response",
  "v2/fw/response/+/chunk/+",
  "v2/fw/error",
  "v2/sw/response/+/chunk/+",
  "v2/sw/error",
]);

/** The kind of an accepted filter, or undefined when ThingsBoard refuses it. */
export function classifyFilter(filter: string, provisionSession: boolean): FilterKind | undefined {
  // A provisioning session may only listen for its answer (§3.8).
  if (provisionSession) return filter === "/provision/response" ? "provision" : undefined;
  if (ATTRIBUTE_FILTERS.has(filter)) return "attributes";
  if (RPC_FILTERS.has(filter)) return "rpc";
  if (QOS_ONLY_FILTERS.has(filter)) return "qosOnly";
  return undefined;
}

/** MqttTopicMatcher: `+` is one level, `#` the rest. */
export function filterMatches(filter: string, topic: string): boolean {
  const f = filter.split("/");
  const t = topic.split("/");
  for (let i = 0; i < f.length; i++) {
    const part = f[i];
    if (part === "#") return t.length > i;
    if (i >= t.length) return false;
    if (part !== "+" && part !== t[i]) return false;
    if (part === "+" && t[i] === "") return false;
  }
  return f.length === t.length;
}

/** QoS of a server publish: the granted QoS of the first matching subscription, else 1 (§2). */
export function qosForTopic(subscriptions: ReadonlyMap<string, 0 | 1>, topic: string): 0 | 1 {
  for (const [filter, qos] of subscriptions) if (filterMatches(filter, topic)) return qos;
  return 1;
}
