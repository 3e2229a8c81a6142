// One MQTT connection as ThingsBoard's MqttTransportHandler treats it: framing through
// mqtt-packet, CONNECT/CONNACK, SUBSCRIBE filter rules, PINGREQ, QoS 2 answered with PUBACK,
// server publishes with one packet-id counter per connection, and closes that speak DISCONNECT
// with a reason on v5 and plain TCP close on 3.x (reference §1, §2, §3.10).
import type { Socket } from "node:net";
import mqttPacket from "mqtt-packet";
import type { IConnectPacket, IPublishPacket, Packet } from "mqtt-packet";
import type { EmulatorLog } from "./log.ts";
import type { ConnectCredentials, ConnectDecision } from "./auth.ts";
import type { EmulatedDevice } from "./model.ts";
import { classifyFilter, qosForTopic, type FilterKind } from "./subscriptions.ts";

export interface EmulatorStats {
  connectsAccepted: number;
  connectsRefused: number;
  publishesIn: number;
  pubacksSent: number;
  malformed: number;
  closedForError: number;
  /** Calls refused by a rate limit (whatever followed: a close, a 0x80, or nothing). */
  rateLimitBreaches: number;
  /** Sub-device lookups refused with "Maximum number of devices reached!". */
  deviceLimitRefusals: number;
  /** Sub-device sessions dropped for inactivity. */
  subSessionsExpired: number;
}

export const DISCONNECT = {
  malformedPacket: 0x81,
  protocolError: 0x82,
  implementationSpecific: 0x83,
  serverShuttingDown: 0x8b,
  sessionTakenOver: 0x8e,
  topicNameInvalid: 0x90,
  quotaExceeded: 0x97,
  administrativeAction: 0x98,
  payloadFormatInvalid: 0x99,
} as const;

export interface SessionHost {
  readonly log: EmulatorLog;
  readonly maxPayloadSize: number;
  readonly stats: EmulatorStats;
  authenticate(c: ConnectCredentials): ConnectDecision;
  onAccepted(s: MqttSession): void;
  onPublish(s: MqttSession, p: IPublishPacket): void;
  onSubscribed(s: MqttSession, kind: FilterKind): void;
  onClosed(s: MqttSession): void;
  onServerPublish(s: MqttSession, topic: string, payload: Buffer): void;
}

/** The parser keeps the packet being assembled in `packet`; its length is known before the body arrives. */
interface ParserInternals {
  packet?: { length?: number };
}

let sessionSeq = 0;

export class MqttSession {
  readonly id = ++sessionSeq;
  version: 3 | 4 | 5 = 4;
  clientId = "";
  username: string | undefined;
  kind: "device" | "provision" = "device";
  device: EmulatedDevice | undefined;
  /** Read once at connect, like additionalInfo.gateway (§1.1). */
  gateway = false;
  readonly subscriptions = new Map<string, 0 | 1>();
  attributesSubscribed = false;
  rpcSubscribed = false;
  /** MqttTransportHandler.chunkSizes and otaPackSessions: per requestId, for this session. */
  readonly otaChunkSizes = new Map<string, number>();
  readonly otaPackages = new Map<string, string>();
  /** Sub-sessions of a gateway: the name the gateway uses -> device id (survives a rename, §5). */
  readonly subDevices = new Map<string, string>();
  /** Last traffic per sub-device name, for the inactivity timeout (TransportActivityManager). */
  readonly subActivity = new Map<string, number>();
  /** Last traffic of the gateway itself (any packet), for overwriteActivityTime. */
  lastActivity = Date.now();
  /** additionalInfo.overwriteActivityTime, read once at connect like the gateway flag. */
  overwriteActivityTime = false;
  readonly connectedAt = Date.now();
  private state: "new" | "open" | "closed" = "new";
  private nextMsgId = 0;
  private readonly parser = mqttPacket.parser({});
  private readonly log: EmulatorLog;
  private readonly timers = new Set<NodeJS.Timeout>();

  constructor(
    private readonly socket: Socket,
    private readonly host: SessionHost,
  ) {
    this.log = host.log.child(`s${this.id}`);
    this.parser.on("packet", (p: Packet) => this.onPacket(p));
    this.parser.on("error", (err: unknown) => {
      host.stats.malformed++;
      this.log.debug(`malformed packet: ${err instanceof Error ? err.message : String(err)}`);
      this.close(DISCONNECT.malformedPacket, true);
    });
    socket.on("data", (buf: Buffer) => this.onData(buf));
    socket.on("error", (err) => this.log.debug(`socket error: ${err.message}`));
    socket.on("close", () => this.finish());
  }

  get v5(): boolean {
    return this.version === 5;
  }

  get open(): boolean {
    return this.state === "open";
  }

  get remoteAddress(): string {
    return `${this.socket.remoteAddress ?? "?"}:${this.socket.remotePort ?? "?"}`;
  }

  /** A timer that dies with the session. */
  later(ms: number, fn: () => void): void {
    const t = setTimeout(() => {
      this.timers.delete(t);
      if (this.state !== "closed") fn();
    }, ms);
    t.unref();
    this.timers.add(t);
  }

  private onData(buf: Buffer): void {
    if (this.state === "closed") return;
    try {
      this.parser.parse(buf);
    } catch (err) {
      this.host.stats.malformed++;
      this.log.debug(`parser threw: ${(err as Error).message}`);
      this.close(DISCONNECT.malformedPacket, true);
      return;
    }
    // Netty's MqttDecoder refuses a variable part above max_payload_size as soon as the length
    // is known (§1.3), so a huge packet is refused without buffering all of it.
    const pending = (this.parser as unknown as ParserInternals).packet?.length ?? -1;
    if (pending > this.host.maxPayloadSize) this.refuseOversized(pending);
  }

  private refuseOversized(length: number): void {
    if (this.state === "closed") return;
    this.host.stats.malformed++;
    this.log.debug(`packet of ${length} bytes exceeds maxPayloadSize ${this.host.maxPayloadSize}`);
    this.close(DISCONNECT.malformedPacket, true);
  }

  private onPacket(p: Packet): void {
    if (this.state === "closed") return;
    if ((p.length ?? 0) > this.host.maxPayloadSize) return this.refuseOversized(p.length ?? 0);
    if (this.state === "new") {
      if (p.cmd !== "connect") return this.close(DISCONNECT.protocolError, true);
      return this.onConnect(p);
    }
    try {
      this.dispatch(p);
    } catch (err) {
      // An unexpected exception is what Netty's exceptionCaught turns into a close (0x8B in TB).
      this.log.error(`handler failed: ${(err as Error).stack ?? String(err)}`);
      this.close(DISCONNECT.serverShuttingDown, true);
    }
  }

  private dispatch(p: Packet): void {
    // PUBLISH, SUBSCRIBE, UNSUBSCRIBE and PINGREQ record the session's activity; a PUBACK does
    // not (MqttTransportHandler: transportService.recordActivity / process).
    if (p.cmd === "publish" || p.cmd === "subscribe" || p.cmd === "unsubscribe" || p.cmd === "pingreq")
      this.lastActivity = Date.now();
    switch (p.cmd) {
      case "publish":
        this.host.stats.publishesIn++;
        return this.host.onPublish(this, p);
      case "subscribe":
        return this.onSubscribe(
          p.messageId ?? 0,
          p.subscriptions.map((s) => ({ topic: s.topic, qos: s.qos })),
        );
      case "unsubscribe": {
        const codes = p.unsubscriptions.map((f) => {
          const existed = this.subscriptions.delete(f);
          const kind = classifyFilter(f, this.kind === "provision");
          if (kind === "attributes") this.attributesSubscribed = false;
          if (kind === "rpc") this.rpcSubscribed = false;
          return existed ? 0 : 0x11; // NO_SUBSCRIPTION_EXISTED, v5 only
        });
        const unsuback: Packet = { cmd: "unsuback", messageId: p.messageId ?? 0, granted: this.v5 ? codes : [] };
        return this.send(unsuback);
      }
      case "pingreq":
        return this.send({ cmd: "pingresp" });
      case "disconnect":
        return this.close(undefined, false);
      case "puback":
      case "pubrec":
      case "pubrel":
      case "pubcomp":
        // The server never retransmits and tracks no sub-device delivery (§2); nothing to do.
        return;
      case "connect":
        return this.close(DISCONNECT.protocolError, true);
      case "connack":
      case "suback":
      case "unsuback":
      case "pingresp":
      case "auth":
        // Server-to-client packets (and v5 AUTH, which ThingsBoard does not implement): the
        // transport's processRegularSessionMsg has no case for them and ignores them.
        this.log.debug(`ignoring ${p.cmd}`);
        return;
    }
  }

  private onConnect(p: IConnectPacket): void {
    // Byte 3 = 3.1, 5 = 5, anything else is treated as 3.1.1 (getMqttVersion, §1.1).
    this.version = p.protocolVersion === 5 ? 5 : p.protocolVersion === 3 ? 3 : 4;
    this.clientId = p.clientId ?? "";
    this.username = p.username;
    const creds: ConnectCredentials = { clientId: this.clientId };
    if (p.username !== undefined) creds.username = p.username;
    if (p.password !== undefined)
      creds.password = Buffer.isBuffer(p.password) ? p.password : Buffer.from(String(p.password));
    const decision = this.host.authenticate(creds);
    if (!decision.ok) {
      this.host.stats.connectsRefused++;
      this.log.debug(`CONNECT refused (${decision.reason})`);
      this.send(
        this.v5
          ? { cmd: "connack", reasonCode: decision.v5Code, sessionPresent: false }
          : { cmd: "connack", returnCode: decision.v3Code, sessionPresent: false },
      );
      // ThingsBoard follows a refusing CONNACK with a v5 DISCONNECT carrying the CONNACK code
      // (§1.2). 0x85/0x86 are not valid DISCONNECT reasons (MQTT 5 §3.14.2.1) and strict client
      // parsers, MQTT.js included, then report a parse error instead of the CONNACK code, so we
      // only close: the CONNACK code and the close are what clients act on.
      return this.close(undefined, false);
    }
    if (decision.kind === "provision") this.kind = "provision";
    else {
      this.device = decision.device;
      this.gateway = decision.device.gateway;
      this.overwriteActivityTime = decision.device.overwriteActivityTime === true;
    }
    this.state = "open";
    this.host.stats.connectsAccepted++;
    // sessionPresent = !clean, although nothing is ever persisted (§1.1). No CONNACK properties.
    const sessionPresent = p.clean === false;
    this.send(
      this.v5 ? { cmd: "connack", reasonCode: 0, sessionPresent } : { cmd: "connack", returnCode: 0, sessionPresent },
    );
    this.host.onAccepted(this);
  }

  private onSubscribe(messageId: number, subs: Array<{ topic: string; qos: number }>): void {
    const granted: number[] = [];
    const kinds: FilterKind[] = [];
    for (const s of subs) {
      const kind = classifyFilter(s.topic, this.kind === "provision");
      if (!kind) {
        granted.push(this.v5 ? 0x8f : 0x80); // TOPIC_FILTER_INVALID / failure (§3.10)
        continue;
      }
      const qos: 0 | 1 = s.qos >= 1 ? 1 : 0; // QoS 2 not implemented: min(requested, 1)
      this.subscriptions.set(s.topic, qos);
      granted.push(qos);
      if (kind === "attributes") this.attributesSubscribed = true;
      if (kind === "rpc") this.rpcSubscribed = true;
      kinds.push(kind);
    }
    this.send({ cmd: "suback", messageId, granted });
    for (const k of kinds) this.host.onSubscribed(this, k);
  }

  /** PUBACK for a QoS >= 1 publish (QoS 2 too: PUBREC is never sent). v3 carries no reason code. */
  puback(p: IPublishPacket, reasonCode = 0): void {
    if (p.qos === 0 || p.messageId === undefined) return;
    this.host.stats.pubacksSent++;
    this.send(
      this.v5 ? { cmd: "puback", messageId: p.messageId, reasonCode } : { cmd: "puback", messageId: p.messageId },
    );
  }

  /**
   * Server -> client publish at the QoS of the first matching subscription, else QoS 1 (§2).
   * Objects go out as compact JSON like Gson's; unlike Gson, a double with no fraction prints as
   * 42 rather than 42.0, since JS numbers do not keep that distinction.
   */
  publish(topic: string, payload: string | Buffer | object): void {
    if (this.state !== "open") return;
    const body = Buffer.isBuffer(payload)
      ? payload
      : Buffer.from(typeof payload === "string" ? payload : JSON.stringify(payload), "utf8");
    const qos = qosForTopic(this.subscriptions, topic);
    // One counter per connection from 1, consumed by QoS 0 too; Netty writes it as a short, so
    // it wraps modulo 65536 on the wire (§2).
    this.nextMsgId++;
    const messageId = this.nextMsgId % 65536;
    this.send({ cmd: "publish", topic, payload: body, qos, retain: false, dup: false, messageId });
    this.host.onServerPublish(this, topic, body);
  }

  send(p: Packet): void {
    if (this.socket.destroyed || this.socket.writableEnded) return;
    try {
      this.socket.write(mqttPacket.generate(p, { protocolVersion: this.version }));
    } catch (err) {
      this.log.error(`cannot encode ${p.cmd}: ${(err as Error).message}`);
    }
  }

  /**
   * Ends the connection: DISCONNECT with `reasonCode` first on v5 (none on 3.x), then TCP close.
   * `forError` counts it in stats.closedForError.
   */
  close(reasonCode?: number, forError = false): void {
    if (this.state === "closed") return;
    if (forError) this.host.stats.closedForError++;
    if (this.v5 && reasonCode !== undefined) this.send({ cmd: "disconnect", reasonCode });
    this.finish();
    this.socket.end();
    // A peer that never closes its side must not hold the socket forever.
    setTimeout(() => this.socket.destroy(), 1000).unref();
  }

  /** Drops the socket at once, as a network outage would. */
  destroy(): void {
    this.finish();
    this.socket.destroy();
  }

  private finish(): void {
    if (this.state === "closed") return;
    const wasOpen = this.state === "open";
    this.state = "closed";
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    if (wasOpen) this.host.onClosed(this);
  }
}
