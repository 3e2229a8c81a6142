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

  telemetry(device: string, record: TsRecord): void {
    if (Object.keys(record.values).length === 0) return;
    const list = this.#telemetry.get(device);
    if (list) list.push(record);
    else this.#telemetry.set(device, [record]);
  }

  /** Device "" is the gateway itself. */
  attributes(device: string, values: KeyValues): void {
    const cur = this.#attributes.get(device);
    this.#attributes.set(device, cur ? Object.assign(cur, values) : { ...values });
  }

  ownTelemetry(record: TsRecord): void {
    if (Object.keys(record.values).length > 0) this.#own.push(record);
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
