// Readings collected between two flushes: telemetry per device (in order), client attributes
// per device (later values win), and the gateway's own telemetry. A flush turns them into a few
// size-bounded messages for the outbox.
import { PayloadBuilder, type BuiltMessage } from "./payloadBuilder.ts";
import type { KeyValues, TsRecord } from "./protocol.ts";

export class ReadingBuffer {
  readonly builder: PayloadBuilder;
  #telemetry = new Map<string, TsRecord[]>();
  #attributes = new Map<string, KeyValues>();
  #own: TsRecord[] = [];

  constructor(maxPayloadBytes: number) {
    this.builder = new PayloadBuilder(maxPayloadBytes);
  }

  /** Values refused because they could never be sent (one key/value over the payload limit). */
  unsendable = 0;
  /** Told about each refused value (for the log). */
  onUnsendable: ((device: string, key: string, bytes: number) => void) | null = null;

  telemetry(device: string, record: TsRecord): void {
    record = this.#sendable(device, record);
    if (Object.keys(record.values).length === 0) return;
    const list = this.#telemetry.get(device);
    if (list) list.push(record);
    else this.#telemetry.set(device, [record]);
  }

  /** Device "" is the gateway itself. */
  attributes(device: string, values: KeyValues): void {
    values = this.#sendable(device, { ts: 0, values }).values;
    if (Object.keys(values).length === 0) return;
    const cur = this.#attributes.get(device);
    this.#attributes.set(device, cur ? Object.assign(cur, values) : { ...values });
  }

  ownTelemetry(record: TsRecord): void {
    if (Object.keys(record.values).length > 0) this.#own.push(record);
  }

  /**
   * Issue 12: one 100 KB reading against a 64 KB limit cannot be split (a single value is the
   * smallest piece), so the server closed the connection on it again and again and nothing else
   * got through. A value that can never fit is refused here, when it is made. Numbers and booleans
   * always fit; only long strings and objects are measured.
   */
  #sendable(device: string, record: TsRecord): TsRecord {
    // Room for one key/value: the payload limit less the builder's headroom and the entry around it.
    const room = this.builder.maxBytes - 64 - Buffer.byteLength(JSON.stringify(device)) - 48;
    let kept: KeyValues | null = null;
    for (const [k, v] of Object.entries(record.values)) {
      if (typeof v !== "object" && !(typeof v === "string" && v.length * 6 + k.length * 6 > room)) continue;
      const bytes = Buffer.byteLength(JSON.stringify(k)) + Buffer.byteLength(JSON.stringify(v)) + 1;
      if (bytes <= room) continue;
      kept ??= { ...record.values };
      delete kept[k];
      this.unsendable++;
      this.onUnsendable?.(device, k, bytes);
    }
    return kept ? { ts: record.ts, values: kept } : record;
  }

  /** Everything buffered, as messages (attributes first: they describe what the readings mean). */
  drain(): BuiltMessage[] {
    const out: BuiltMessage[] = [];
    if (this.#attributes.size) {
      out.push(...this.builder.attributes(this.#attributes));
      this.#attributes = new Map();
    }
    if (this.#telemetry.size) {
      out.push(...this.builder.telemetry(this.#telemetry));
      this.#telemetry = new Map();
    }
    if (this.#own.length) {
      out.push(...this.builder.ownTelemetry(this.#own));
      this.#own = [];
    }
    return out;
  }
}
