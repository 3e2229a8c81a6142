// The emulator's own JSON reading. It shares no code with the bridge it tests (docs/architecture.md):
// a parsing bug in the gateway must not be hidden by the same bug here. ThingsBoard's MQTT transport
// parses payloads with Gson's JsonParser (JsonMqttAdaptor); Gson reads leniently (single quotes,
// unquoted names), JSON.parse does not, so a payload only Gson accepts is refused here: the gateway
// never sends one.

export type JsonParse = { ok: true; value: unknown } | { ok: false; error: string };

export function parseJson(text: string | Buffer): JsonParse {
  try {
    return { ok: true, value: JSON.parse(typeof text === "string" ? text : text.toString("utf8")) as unknown };
  } catch (err) {
    return { ok: false, error: `invalid JSON: ${err instanceof Error ? err.message : String(err)}` };
  }
}

/** A JSON object (Gson's JsonObject): not null, not an array. */
export function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}
