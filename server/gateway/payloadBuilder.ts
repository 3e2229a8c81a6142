// Coalesces readings from many devices into few publishes: per flush, one
// v1/gateway/telemetry message {"Device A":[{ts,values},...],...} (split when it would pass
// the server's maximum payload size), never an empty array (an empty array is never acked, §3.1).
// Records are serialised once and assembled as strings, so large batches cost no re-encoding.
import type { KeyValues, TsRecord } from "./protocol.ts";
import { encodeOutbound, TOPIC } from "./protocol.ts";

export interface BuiltMessage {
  topic: string;
  payload: string;
  points: number;
}

/** Room for the topic, MQTT headers and properties inside the server's limit (§1.3: the limit covers topic + payload). */
const HEADROOM = 64;

function byteLen(s: string): number {
  // Native and vectorised: faster than a JS ASCII scan even for short records (builder micro-bench 2.9 -> 3.5 M points/s).
  return Buffer.byteLength(s);
}

/** Split a record whose encoding alone exceeds the byte limit (or that has more keys than
 *  maxKeys) into records of fewer keys, same ts. */
function splitRecord(rec: TsRecord, limit: number, maxKeys = Number.POSITIVE_INFINITY): TsRecord[] {
  const out: TsRecord[] = [];
  let cur: KeyValues = {};
  let size = 40;
  let keys = 0;
  for (const [k, v] of Object.entries(rec.values)) {
    const s = byteLen(JSON.stringify(k)) + byteLen(JSON.stringify(v)) + 2;
    if ((size + s > limit || keys >= maxKeys) && keys > 0) {
      out.push({ ts: rec.ts, values: cur });
      cur = {};
      size = 40;
      keys = 0;
    }
    cur[k] = v;
    size += s;
    keys++;
  }
  if (Object.keys(cur).length > 0) out.push({ ts: rec.ts, values: cur });
  return out;
}

/** A record's JSON is `{"ts":<ts>,"values":` + JSON.stringify(values) + `}`, the same text
 *  JSON.stringify({ts, values}) gives. The head is built once for all records that share a ts (a
 *  flush's readings mostly do): JSON.stringify turns a 13-digit ms timestamp, a double, into
 *  digits on every call. The three parts go into the message as they are, so no record string is
 *  concatenated and flattened only to be copied again by the message's join.
 *  Builder micro-bench (scripts/bench/builderMicro.ts): about 1.3x the records per second. */
class RecordHeads {
  #ts = Number.NaN;
  #head = "";

  /** null for a ts JSON.stringify would turn into null or drop (not finite, not a number). */
  head(ts: unknown): string | null {
    if (typeof ts !== "number" || !Number.isFinite(ts)) return null;
    if (ts !== this.#ts) {
      this.#ts = ts;
      this.#head = `{"ts":${String(ts)},"values":`;
    }
    return this.#head;
  }
}

/** Gateway telemetry messages being assembled as string parts, `{"A":[r1,r2],"B":[r3]}`, cut
 *  before a record would take one past the byte or point limit. `size` is always the exact byte
 *  length the open message would have if it were closed now. */
class TelemetryMessages {
  readonly #out: BuiltMessage[] = [];
  readonly #limit: number;
  readonly #maxPoints: number;
  readonly #maxEntries: number;
  #parts: string[] = ["{"];
  #size = 2;
  #points = 0;
  #entries = 0;
  /** The current device's entry is open (has records) in the message under construction. */
  #open = false;
  #key = "";
  /** Bytes of the current device's `"key":[` + `]`. */
  entryCost = 0;

  constructor(limit: number, maxPoints: number, maxEntries: number) {
    this.#limit = limit;
    this.#maxPoints = maxPoints;
    this.#maxEntries = maxEntries;
  }

  device(name: string): void {
    this.#closeEntry();
    this.#key = JSON.stringify(name);
    this.entryCost = byteLen(this.#key) + 3;
  }

  /** A record whose JSON is head + body + tail, `len` bytes, with n data points. */
  add(head: string, body: string, tail: string, len: number, n: number): void {
    let cost = this.#open ? 1 + len : (this.#entries > 0 ? 1 : 0) + this.entryCost + len;
    const full =
      this.#size + cost > this.#limit ||
      this.#points + n > this.#maxPoints ||
      (!this.#open && this.#entries >= this.#maxEntries);
    if (full && this.#entries > 0) {
      this.#flush();
      cost = this.entryCost + len;
    }
    this.#size += cost;
    if (this.#open) this.#parts.push(",", head, body, tail);
    else {
      this.#parts.push(this.#entries > 0 ? "," : "", this.#key, ":[", head, body, tail);
      this.#entries++;
      this.#open = true;
    }
    this.#points += n;
  }

  finish(): BuiltMessage[] {
    this.#flush();
    return this.#out;
  }

  #closeEntry(): void {
    if (!this.#open) return;
    this.#parts.push("]");
    this.#open = false;
  }

  #flush(): void {
    if (this.#entries === 0) return;
    this.#closeEntry();
    this.#parts.push("}");
    this.#out.push({ topic: TOPIC.gwTelemetry, payload: this.#parts.join(""), points: this.#points });
    this.#parts = ["{"];
    this.#size = 2;
    this.#points = 0;
    this.#entries = 0;
  }
}

export class PayloadBuilder {
  #maxBytes: number;
  /** ThingsBoard charges a telemetry message's data points against a token bucket in one go and
   *  refuses a message with more points than the bucket holds (rate limit "10:1" -> at most 10
   *  points per message), so telemetry is also split by points. */
  #maxPoints = Number.POSITIVE_INFINITY;
  /** ThingsBoard charges one telemetry-message token per DEVICE ENTRY of a gateway message
   *  (AbstractGatewaySessionHandler processes each entry on its own), so a message with more
   *  devices than that bucket holds is refused: messages are also split by devices. */
  #maxEntries = Number.POSITIVE_INFINITY;
  readonly #heads = new RecordHeads();

  constructor(maxBytes: number) {
    this.#maxBytes = maxBytes;
  }

  set maxBytes(n: number) {
    this.#maxBytes = Math.max(256, n);
  }
  get maxBytes(): number {
    return this.#maxBytes;
  }

  set maxPoints(n: number) {
    this.#maxPoints = Math.max(1, n);
  }
  get maxPoints(): number {
    return this.#maxPoints;
  }

  set maxEntries(n: number) {
    this.#maxEntries = Math.max(1, n);
  }
  get maxEntries(): number {
    return this.#maxEntries;
  }

  /** Gateway telemetry: {"dev":[records]} messages within the size limit. */
  telemetry(byDevice: Map<string, TsRecord[]>): BuiltMessage[] {
    const limit = this.#maxBytes - HEADROOM;
    const maxPoints = this.#maxPoints;
    const msgs = new TelemetryMessages(limit, maxPoints, this.#maxEntries);
    // Hot path (npm run bench -- throughput): one encoding per record, keys counted once, and no
    // per-record closure or array; only a record too large for one message takes splitRecord.
    for (const [device, records] of byDevice) {
      msgs.device(device);
      const entryCost = msgs.entryCost;
      for (const rec of records) {
        const n = Object.keys(rec.values).length;
        if (n === 0) continue;
        const head = this.#heads.head(rec.ts);
        const body = head === null ? JSON.stringify(rec) : JSON.stringify(rec.values);
        const len = head === null ? byteLen(body) : head.length + byteLen(body) + 1;
        if (len + entryCost + 2 <= limit && n <= maxPoints) {
          if (head === null) msgs.add("", body, "", len, n);
          else msgs.add(head, body, "}", len, n);
          continue;
        }
        for (const piece of splitRecord(rec, limit - entryCost - 2, maxPoints)) {
          const e = JSON.stringify(piece);
          msgs.add("", e, "", byteLen(e), Object.keys(piece.values).length);
        }
      }
    }
    return msgs.finish();
  }

  /** Client attributes: {"dev":{k:v}} on v1/gateway/attributes, or the gateway's own on v1/devices/me/attributes (device ""). */
  attributes(byDevice: Map<string, KeyValues>): BuiltMessage[] {
    const out: BuiltMessage[] = [];
    const limit = this.#maxBytes - HEADROOM;
    const own = byDevice.get("");
    if (own && Object.keys(own).length > 0) {
      for (const chunk of splitRecord({ ts: 0, values: own }, limit)) {
        out.push({
          topic: TOPIC.meAttributes,
          payload: encodeOutbound(TOPIC.meAttributes, chunk.values),
          points: Object.keys(chunk.values).length,
        });
      }
    }
    let cur: Record<string, KeyValues> = {};
    let size = 2;
    let points = 0;
    const flush = () => {
      if (points === 0) return;
      out.push({ topic: TOPIC.gwAttributes, payload: encodeOutbound(TOPIC.gwAttributes, cur), points });
      cur = {};
      size = 2;
      points = 0;
    };
    for (const [device, values] of byDevice) {
      if (device === "" || Object.keys(values).length === 0) continue;
      const keyLen = byteLen(JSON.stringify(device)) + 4;
      for (const chunk of splitRecord({ ts: 0, values }, limit - keyLen)) {
        const len = byteLen(JSON.stringify(chunk.values)) + keyLen;
        const entries = Object.keys(cur).length;
        if (size + len > limit || (!(device in cur) && entries >= this.#maxEntries)) flush();
        cur[device] = { ...cur[device], ...chunk.values };
        size += len;
        points += Object.keys(chunk.values).length;
      }
    }
    flush();
    return out;
  }

  /** The gateway's own telemetry on v1/devices/me/telemetry, as an array of {ts, values}. */
  ownTelemetry(records: TsRecord[]): BuiltMessage[] {
    const out: BuiltMessage[] = [];
    const limit = this.#maxBytes - HEADROOM;
    let parts: string[] = [];
    let size = 2;
    let points = 0;
    for (const rec of records) {
      for (const piece of splitRecord(rec, limit - 2, this.#maxPoints)) {
        const enc = JSON.stringify(piece);
        const len = byteLen(enc) + 1;
        const n = Object.keys(piece.values).length;
        if ((size + len > limit || points + n > this.#maxPoints) && parts.length > 0) {
          out.push({ topic: TOPIC.meTelemetry, payload: `[${parts.join(",")}]`, points });
          parts = [];
          size = 2;
          points = 0;
        }
        parts.push(enc);
        size += len;
        points += n;
      }
    }
    if (parts.length > 0) out.push({ topic: TOPIC.meTelemetry, payload: `[${parts.join(",")}]`, points });
    return out;
  }
}
