// A plain broker (Mosquitto in tests, or a user's own broker in front of ThingsBoard) echoes
// our own publishes back on the topics we subscribe to. They are not server messages: RPC
// replies carry a top-level "id" (server requests carry data.id), client attributes have no
// "device" field (server updates have {device, data}), and our own attribute payloads are ones
// we just sent.
import { isObject, parseJson } from "../util/json.ts";
import { TOPIC } from "./protocol.ts";

const REMEMBERED = 16;

export class EchoFilter {
  #recentOwnAttributes: string[] = [];

  /** Call for every publish; remembers what a broker could echo back to us. */
  sent(topic: string, payload: string): void {
    if (topic !== TOPIC.meAttributes) return;
    this.#recentOwnAttributes.push(payload);
    if (this.#recentOwnAttributes.length > REMEMBERED) this.#recentOwnAttributes.shift();
  }

  isEcho(topic: string, payload: Buffer): boolean {
    if (topic === TOPIC.meAttributes) return this.#recentOwnAttributes.includes(payload.toString("utf8"));
    if (topic !== TOPIC.gwRpc && topic !== TOPIC.gwAttributes) return false;
    const p = parseJson(payload);
    if (!p.ok || !isObject(p.value)) return false;
    return topic === TOPIC.gwRpc ? "id" in p.value : !("device" in p.value) && !("data" in p.value);
  }
}
