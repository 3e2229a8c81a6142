// A size limit on what the server may send us, enforced on the byte stream BEFORE MQTT.js buffers
// a packet: mqtt-packet collects a whole packet in memory, MQTT.js's own maximumPacketSize check
// runs only after that (and only on MQTT 5), and a 60 MB RPC or shared attribute then became a
// 60 MB string, a JSON.parse and an out-of-memory crash (issue 12). The guard sits between the
// socket and MQTT.js, reads each packet's fixed header (MQTT 3.1.1 §2.2, MQTT 5 §2.1.4: one type
// byte + a variable byte integer remaining length), and for a packet over the limit:
//  - PUBLISH: its bytes are dropped as they stream in (never more than the topic is kept), the
//    drop is reported with its topic, and a QoS 1 PUBLISH is acknowledged by us, so the server's
//    in-flight window does not fill up and the connection stays usable (MQTT.js never sees it);
//  - any other packet type: nothing sane is that large, so the connection is closed.
// On MQTT 5 the limit is also announced in CONNECT (Maximum Packet Size, §3.1.2.11.4), so a
// conforming server does not even send it.
import { createConnection, isIP } from "node:net";
import { Duplex } from "node:stream";
import { connect as tlsConnect } from "node:tls";

export interface OversizePublish {
  topic: string;
  qos: number;
  /** Whole packet size in bytes (fixed header included). */
  bytes: number;
}

export interface InboundSizeGuardOptions {
  maxPacketBytes: number;
  mqttVersion: 4 | 5;
  onOversize: (p: OversizePublish) => void;
}

const PUBLISH = 3;
/** Topic length (2) + the longest topic (65535) + packet id (2). */
const MAX_PUBLISH_HEAD = 2 + 65_535 + 2;

type State =
  | { kind: "header"; bytes: number[] }
  | { kind: "pass"; left: number }
  | {
      kind: "skip";
      left: number;
      type: number;
      qos: number;
      total: number;
      head: Buffer[];
      headBytes: number;
      headWanted: number;
      reported: boolean;
    };

export class InboundSizeGuard extends Duplex {
  readonly #inner: Duplex;
  readonly #o: InboundSizeGuardOptions;
  #state: State = { kind: "header", bytes: [] };

  constructor(inner: Duplex, o: InboundSizeGuardOptions) {
    super();
    this.#inner = inner;
    this.#o = o;
    inner.on("data", (chunk: Buffer) => {
      try {
        this.#consume(chunk);
      } catch (err) {
        this.destroy(err as Error);
      }
    });
    inner.on("end", () => this.push(null));
    inner.on("error", (err) => this.destroy(err));
    inner.on("close", () => this.destroy());
  }

  /** MQTT.js and connection.ts treat the stream as the socket. */
  setNoDelay(on: boolean): this {
    (this.#inner as { setNoDelay?: (on: boolean) => void }).setNoDelay?.(on);
    return this;
  }

  override _read(): void {
    this.#inner.resume();
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    if (this.#inner.write(chunk)) cb();
    else this.#inner.once("drain", () => cb());
  }

  override _final(cb: (err?: Error | null) => void): void {
    this.#inner.end(() => cb());
  }

  override _destroy(err: Error | null, cb: (err?: Error | null) => void): void {
    this.#inner.destroy();
    cb(err);
  }

  #forward(buf: Buffer): void {
    if (buf.length > 0 && !this.push(buf)) this.#inner.pause();
  }

  #consume(chunk: Buffer): void {
    let at = 0;
    while (at < chunk.length) {
      const s = this.#state;
      if (s.kind === "pass") {
        const n = Math.min(s.left, chunk.length - at);
        this.#forward(chunk.subarray(at, at + n));
        at += n;
        s.left -= n;
        if (s.left === 0) this.#state = { kind: "header", bytes: [] };
      } else if (s.kind === "skip") {
        let n = Math.min(s.left, chunk.length - at);
        const keepHead = s.headBytes < s.headWanted;
        if (keepHead) {
          n = Math.min(n, s.headWanted - s.headBytes);
          s.head.push(Buffer.from(chunk.subarray(at, at + n)));
          s.headBytes += n;
        }
        at += n;
        s.left -= n;
        if (keepHead) this.#maybeReport(s);
        if (s.left === 0) {
          this.#maybeReport(s);
          this.#state = { kind: "header", bytes: [] };
        }
      } else {
        const b = chunk[at++] as number;
        s.bytes.push(b);
        if (s.bytes.length === 1) continue;
        if ((b & 0x80) !== 0) {
          if (s.bytes.length === 5) throw guardError("malformed remaining length from the server");
          continue;
        }
        let remaining = 0;
        for (let i = s.bytes.length - 1; i >= 1; i--) remaining = remaining * 128 + ((s.bytes[i] as number) & 0x7f);
        const total = s.bytes.length + remaining;
        if (total <= this.#o.maxPacketBytes) {
          this.#forward(Buffer.from(s.bytes));
          this.#state = remaining > 0 ? { kind: "pass", left: remaining } : { kind: "header", bytes: [] };
          continue;
        }
        const first = s.bytes[0] as number;
        const type = first >> 4;
        if (type !== PUBLISH)
          throw guardError(
            `the server sent a ${total}-byte packet of type ${type}, over the ${this.#o.maxPacketBytes}-byte limit`,
          );
        const qos = (first >> 1) & 3;
        this.#state = {
          kind: "skip",
          left: remaining,
          type,
          qos,
          total,
          head: [],
          headBytes: 0,
          headWanted: Math.min(remaining, 2),
          reported: false,
        };
      }
    }
  }

  /** Once the topic (and packet id) of a dropped PUBLISH are in, report it and acknowledge it. */
  #maybeReport(s: Extract<State, { kind: "skip" }>): void {
    if (s.reported) return;
    const head = Buffer.concat(s.head);
    s.head = [head];
    if (head.length < 2) {
      if (s.left === 0) s.reported = true; // a PUBLISH too short to have a topic: nothing to tell
      return;
    }
    const topicLength = head.readUInt16BE(0);
    const wanted = Math.min(2 + topicLength + (s.qos > 0 ? 2 : 0), MAX_PUBLISH_HEAD, s.headBytes + s.left);
    if (head.length < wanted) {
      s.headWanted = wanted;
      if (s.left > 0) return;
    }
    s.reported = true;
    s.head = [];
    const topic = head.subarray(2, Math.min(head.length, 2 + topicLength)).toString("utf8");
    if (s.qos === 1 && head.length >= 2 + topicLength + 2) {
      const id = head.readUInt16BE(2 + topicLength);
      // PUBACK; on MQTT 5 with reason 0x80 (unspecified error): we did not take it.
      const ack =
        this.#o.mqttVersion === 5
          ? Buffer.from([0x40, 3, id >> 8, id & 0xff, 0x80])
          : Buffer.from([0x40, 2, id >> 8, id & 0xff]);
      this.#inner.write(ack);
    }
    this.#o.onOversize({ topic, qos: s.qos, bytes: s.total });
  }
}

function guardError(message: string): Error {
  return Object.assign(new Error(message), { code: "PACKET_TOO_LARGE" });
}

/** The socket MQTT.js talks over: TCP or TLS to ThingsBoard, with the guard in front of it. */
export function guardedSocket(
  o: {
    host: string;
    port: number;
    tls?:
      | { ca?: Buffer | undefined; cert?: Buffer | undefined; key?: Buffer | undefined; rejectUnauthorized: boolean }
      | undefined;
  },
  guard: InboundSizeGuardOptions,
): Duplex {
  const inner = o.tls
    ? tlsConnect({
        host: o.host,
        port: o.port,
        ...(isIP(o.host) === 0 ? { servername: o.host } : {}),
        ...(o.tls.ca ? { ca: o.tls.ca } : {}),
        ...(o.tls.cert ? { cert: o.tls.cert } : {}),
        ...(o.tls.key ? { key: o.tls.key } : {}),
        rejectUnauthorized: o.tls.rejectUnauthorized,
      })
    : createConnection({ host: o.host, port: o.port });
  return new InboundSizeGuard(inner, guard);
}
