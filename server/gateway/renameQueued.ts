// Messages queued under a device's old name go out under the name ThingsBoard uses now, and
// what was queued for a device since deleted in ThingsBoard is dropped (sending it would
// re-create the device: ThingsBoard creates unknown names, AbstractGatewaySessionHandler.process).
// ThingsBoard looks sub-devices up by name (DefaultTransportApiService.findOrCreateDevice), so
// a message under the old name would create a new device there and leave the renamed one silent
// (gateway_device_renamed is sent once: DefaultGatewayNotificationsService.onDeviceUpdated).
import { isObject, parseJson } from "../util/json.ts";
import type { MergedMessage } from "./mergeMessages.ts";
import { TOPIC } from "./protocol.ts";

const KEYED = new Set<string>([TOPIC.gwTelemetry, TOPIC.gwAttributes, TOPIC.gwClaim]);
const DEVICE_FIELD = new Set<string>([TOPIC.gwAttributesRequest, TOPIC.gwRpc, TOPIC.gwConnect, TOPIC.gwDisconnect]);

export interface QueuedRewrite {
  renames: ReadonlyMap<string, string>;
  isDeleted: (device: string) => boolean;
  /** Is any device deleted? (When nothing is renamed or deleted, nothing is parsed.) */
  anyDeleted?: () => boolean;
}

/** `m` with every old name replaced by the current one and deleted devices left out; `m` itself
 *  when nothing applies; null when nothing is left to send. */
export function rewriteQueued(m: MergedMessage, w: QueuedRewrite): MergedMessage | null {
  if (w.renames.size === 0 && w.anyDeleted && !w.anyDeleted()) return m;
  if (!(KEYED.has(m.topic) || DEVICE_FIELD.has(m.topic))) return m;
  if (m.devices && !m.devices.some((d) => w.renames.has(d) || w.isDeleted(d))) return m;
  const p = parseJson(m.payload);
  if (!p.ok || !isObject(p.value)) return m;
  const v = p.value;
  if (DEVICE_FIELD.has(m.topic)) {
    if (typeof v.device !== "string") return m;
    if (w.isDeleted(v.device)) return null;
    const to = w.renames.get(v.device);
    return to === undefined ? m : { ...m, payload: JSON.stringify({ ...v, device: to }), devices: [to] };
  }
  if (!Object.keys(v).some((d) => w.renames.has(d) || w.isDeleted(d))) return m;
  const out = new Map<string, unknown>();
  let points = m.points;
  for (const [name, data] of Object.entries(v)) {
    if (w.isDeleted(name)) {
      points -= pointsIn(data);
      continue;
    }
    const to = w.renames.get(name) ?? name;
    const cur = out.get(to);
    // Both names in one message: telemetry records are joined, attributes merged (later wins).
    if (cur === undefined) out.set(to, data);
    else if (Array.isArray(cur) && Array.isArray(data)) out.set(to, cur.concat(data));
    else if (isObject(cur) && isObject(data)) out.set(to, { ...cur, ...data });
    else out.set(to, data);
  }
  if (out.size === 0) return null;
  return {
    ...m,
    payload: JSON.stringify(Object.fromEntries(out)),
    points: Math.max(0, points),
    devices: [...out.keys()],
  };
}

function pointsIn(data: unknown): number {
  if (Array.isArray(data))
    return data.reduce(
      (n: number, r) =>
        n +
        (isObject(r) && isObject(r.values) ? Object.keys(r.values).length : isObject(r) ? Object.keys(r).length : 0),
      0,
    );
  return isObject(data) ? Object.keys(data).length : 0;
}
