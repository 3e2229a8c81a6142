// One supervised MQTT connection to ThingsBoard.
// Why our own supervisor instead of MQTT.js's reconnect: MQTT.js does not reconnect after a
// refused CONNACK by default, can stall for good with its `disconnecting` flag set
// (Koenkk/zigbee2mqtt#33150, mqttjs/MQTT.js#1825), and its offline queue is RAM-only
// (anchors C3). So every attempt uses a fresh client with reconnectPeriod 0, and this class owns
// the v5 -> 3.1.1 fallback, auth-failure status and a watchdog; reconnectSchedule.ts times the
// retries (backoff with jitter), connectionListeners.ts isolates the listeners and
// subscribeAfterConnack.ts makes the subscriptions.
import { MqttClient } from "mqtt";
import { clientOptions, maxInboundBytes } from "./clientOptions.ts";
import { guardedSocket, type OversizePublish } from "./inboundSizeGuard.ts";
import { ConnectionListeners } from "./connectionListeners.ts";
import type { ConnectionStatus, ConnectionState } from "../events.ts";
import type { Logger } from "../util/logger.ts";
import { GATEWAY_SUBSCRIPTIONS } from "./protocol.ts";
import { ReconnectSchedule } from "./reconnectSchedule.ts";
import { SessionFlapDetector, disconnectReasonName } from "./flapDetector.ts";
import { subscribeAfterConnack } from "./subscribeAfterConnack.ts";

export interface ConnectionOptions {
  host: string;
  port: number;
  mqttVersion: 4 | 5;
  accessToken?: string | undefined;
  clientId?: string | undefined;
  username?: string | undefined;
  password?: string | undefined;
  tls?: {
    enabled: boolean;
    caFile?: string | undefined;
    certFile?: string | undefined;
    keyFile?: string | undefined;
    rejectUnauthorized: boolean;
  };
  keepaliveSec: number;
  reconnectMinMs: number;
  reconnectMaxMs: number;
  connectTimeoutMs?: number;
  /** Largest packet accepted from the server (default 1 MiB); bigger PUBLISHes are dropped unread. */
  maxInboundBytes?: number;
  /** Topics to subscribe to after each CONNACK. Default: the ThingsBoard gateway set. */
  subscriptions?: readonly string[];
  log: Logger;
  random?: () => number;
}

export class PublishError extends Error {
  readonly reasonCode: number | undefined;
  constructor(message: string, reasonCode?: number) {
    super(message);
    this.name = "PublishError";
    this.reasonCode = reasonCode;
  }
}

/** CONNACK codes that mean "your credentials are wrong" (v3: 4, 5; v5: 0x85-0x87, 0x8C). */
const AUTH_CODES = new Set([4, 5, 0x85, 0x86, 0x87, 0x8c]);

export class TbConnection {
  #o: ConnectionOptions;
  #client: MqttClient | null = null;
  #gen = 0;
  #state: ConnectionState = "stopped";
  #since = Date.now();
  #version: 4 | 5;
  #reconnects = 0;
  #lastError: string | undefined;
  readonly #retry: ReconnectSchedule;
  #watchdog: NodeJS.Timeout | null = null;
  #gotConnack = false;
  /** Whether this attempt got as far as sending CONNECT (TCP/TLS was up). */
  #sentConnect = false;
  #ready = false;
  readonly #listeners: ConnectionListeners;
  /** Sessions closed right after they opened: two gateways on one token (issue 13). */
  readonly #flaps = new SessionFlapDetector();
  /** The reason code of the server's DISCONNECT (MQTT 5) on the current client, if one came. */
  #disconnectReason: number | undefined;

  constructor(options: ConnectionOptions) {
    this.#o = options;
    this.#version = options.mqttVersion;
    this.#listeners = new ConnectionListeners(options.log);
    this.#retry = new ReconnectSchedule({
      minMs: options.reconnectMinMs,
      maxMs: options.reconnectMaxMs,
      random: options.random,
      onDue: () => this.#retryDue(),
    });
  }

  onConnected(cb: () => void): void {
    this.#listeners.connected.add(cb);
  }
  onDisconnected(cb: () => void): void {
    this.#listeners.disconnected.add(cb);
  }
  onMessage(cb: (topic: string, payload: Buffer) => void): void {
    this.#listeners.message.add(cb);
  }
  onStatus(cb: (s: ConnectionStatus) => void): void {
    this.#listeners.status.add(cb);
  }
  onOversize(cb: (p: OversizePublish) => void): void {
    this.#listeners.oversize.add(cb);
  }

  /** True once CONNACK arrived and subscriptions were made. */
  get connected(): boolean {
    return this.#ready && this.#client?.connected === true;
  }

  get mqttVersion(): 4 | 5 {
    return this.#version;
  }

  status(): ConnectionStatus {
    const s: ConnectionStatus = {
      state: this.#state,
      since: this.#since,
      server: `${this.#o.host}:${this.#o.port}`,
      mqttVersion: this.#version,
      reconnects: this.#reconnects,
    };
    if (this.#lastError) s.lastError = this.#lastError;
    const nextRetryAt = this.#retry.nextRetryAt;
    if (nextRetryAt && (this.#state === "backoff" || this.#state === "authFailed")) s.nextRetryAt = nextRetryAt;
    return s;
  }

  /** Replace credentials (after provisioning) and reconnect with them. */
  setCredentials(c: { accessToken?: string; clientId?: string; username?: string; password?: string }): void {
    this.#o = {
      ...this.#o,
      accessToken: c.accessToken,
      clientId: c.clientId,
      username: c.username,
      password: c.password,
    };
    if (this.#state !== "stopped") this.#restartNow();
  }

  start(): void {
    if (this.#state !== "stopped") return;
    this.#watchdog = setInterval(() => this.#checkWatchdog(), 5000);
    this.#watchdog.unref();
    this.#connect();
  }

  async stop(): Promise<void> {
    if (this.#watchdog) clearInterval(this.#watchdog);
    this.#watchdog = null;
    this.#retry.clear();
    const c = this.#client;
    this.#client = null;
    this.#gen++;
    const wasReady = this.#ready;
    this.#ready = false;
    this.#setState("stopped");
    if (wasReady) this.#listeners.emit("disconnected");
    if (c) {
      c.on("error", () => {}); // a CONNACK refusal may still arrive while closing
      // A graceful DISCONNECT when connected; otherwise there is nothing to be graceful with.
      await new Promise<void>((resolve) => c.end(!c.connected, {}, () => resolve()));
    }
  }

  /** QoS 1 publish; resolves on PUBACK, rejects on a refused PUBACK (v5 reason code) or a lost connection. */
  publish(topic: string, payload: string | Buffer): Promise<void> {
    const c = this.#client;
    if (!c || !this.connected) return Promise.reject(new PublishError("not connected"));
    return new Promise((resolve, reject) => {
      c.publish(topic, payload, { qos: 1 }, (err) => {
        if (!err) return resolve();
        const code = (err as { code?: unknown }).code;
        reject(new PublishError(err.message, typeof code === "number" ? code : undefined));
      });
    });
  }

  #setState(state: ConnectionState, error?: string): void {
    if (error !== undefined) this.#lastError = error;
    if (state !== this.#state) {
      this.#state = state;
      this.#since = Date.now();
    }
    this.#listeners.emitStatus(this.status());
  }

  #connect(): void {
    this.#retry.clear();
    const gen = ++this.#gen;
    this.#gotConnack = false;
    this.#sentConnect = false;
    this.#ready = false;
    this.#disconnectReason = undefined;
    this.#setState("connecting");
    let client: MqttClient;
    try {
      const opts = clientOptions(this.#o, this.#version);
      const version = this.#version;
      const tls =
        opts.protocol === "mqtts"
          ? {
              ca: opts.ca as Buffer | undefined,
              cert: opts.cert as Buffer | undefined,
              key: opts.key as Buffer | undefined,
              rejectUnauthorized: opts.rejectUnauthorized !== false,
            }
          : undefined;
      const onOversize = (p: OversizePublish) => {
        if (gen === this.#gen) this.#listeners.emitOversize(p);
      };
      client = new MqttClient(
        () =>
          guardedSocket(
            { host: this.#o.host, port: this.#o.port, tls },
            { maxPacketBytes: maxInboundBytes(this.#o), mqttVersion: version, onOversize },
          ),
        opts,
      );
    } catch (err) {
      this.#failed(`cannot connect: ${(err as Error).message}`);
      return;
    }
    this.#client = client;
    // MQTT.js leaves Nagle on: an RPC reply written just after a PUBACK then waits for the
    // server's delayed ACK (~40 ms on Linux). npm run bench -- rpc: p50 44 ms before this line.
    (client.stream as { setNoDelay?: (on: boolean) => void } | undefined)?.setNoDelay?.(true);
    const live = () => gen === this.#gen;
    client.on("connect", () => {
      if (!live()) return;
      this.#gotConnack = true;
      this.#onConnack(client, gen);
    });
    client.on("packetsend", (p) => {
      if (live() && p.cmd === "connect") this.#sentConnect = true;
    });
    client.on("message", (topic, payload) => {
      if (live()) this.#listeners.emitMessage(topic, payload);
    });
    client.on("error", (err) => {
      if (!live()) return;
      const code = (err as { code?: unknown }).code;
      if (typeof code === "number" && !this.#gotConnack) {
        this.#onRefused(code, err.message);
        return;
      }
      this.#lastError = err.message;
      this.#o.log.warn(`MQTT error: ${err.message}`);
    });
    client.on("disconnect", (packet) => {
      if (live() && typeof packet.reasonCode === "number") this.#disconnectReason = packet.reasonCode;
    });
    client.on("close", () => {
      if (!live()) return;
      this.#onClosed();
    });
  }

  #onConnack(client: MqttClient, gen: number): void {
    const done = () => {
      if (gen !== this.#gen || !client.connected || this.#ready) return;
      this.#ready = true;
      this.#retry.connected();
      this.#o.log.info(`connected to ${this.#o.host}:${this.#o.port} (MQTT ${this.#version === 5 ? "5" : "3.1.1"})`);
      this.#flaps.opened();
      this.#setState("connected");
      this.#listeners.emit("connected");
    };
    subscribeAfterConnack(client, [...(this.#o.subscriptions ?? GATEWAY_SUBSCRIPTIONS)], this.#o.log, done);
  }

  #onRefused(code: number, message: string): void {
    // v3 code 1 / v5 0x84: unsupported protocol version -> fall back to 3.1.1 by ourselves.
    if (this.#version === 5 && (code === 1 || code === 0x84)) {
      this.#o.log.warn("server refused MQTT 5; falling back to MQTT 3.1.1");
      this.#version = 4;
      this.#killClient();
      this.#retry.schedule(0);
      return;
    }
    const auth = AUTH_CODES.has(code);
    this.#o.log.error(
      auth
        ? `ThingsBoard refused the credentials (CONNACK ${code}): check the access token`
        : `ThingsBoard refused the connection (CONNACK ${code}: ${message})`,
    );
    this.#killClient();
    this.#failed(`CONNACK ${code}: ${message}`, auth);
  }

  #onClosed(): void {
    const wasReady = this.#ready;
    const hadConnack = this.#gotConnack;
    this.#ready = false;
    this.#killClient();
    if (wasReady) {
      const server = `${this.#o.host}:${this.#o.port}`;
      const reason = this.#disconnectReason;
      this.#o.log.warn(
        `connection to ${server} lost${reason === undefined ? "" : ` (server sent DISCONNECT ${disconnectReasonName(reason)})`}`,
      );
      const warning = this.#flaps.closed(server, reason);
      if (warning) this.#o.log.warn(warning);
      // While the pattern lasts the status (dashboard, gateway stats) names the likely cause, not only "connection closed".
      if (this.#flaps.active) this.#lastError = this.#flaps.hint(server, reason);
      else if (this.#lastError?.startsWith(`ThingsBoard at ${server} clos`)) this.#lastError = undefined;
      this.#listeners.emit("disconnected");
    }
    if (this.#state === "stopped") return;
    // A v5 CONNECT dropped without any CONNACK may be an old broker that does not speak 5.
    if (!hadConnack && this.#version === 5 && this.#o.mqttVersion === 5 && this.#sentConnect) {
      this.#version = 4;
      this.#o.log.warn("connection closed before CONNACK on MQTT 5; trying MQTT 3.1.1");
    } else if (!hadConnack && this.#version === 4 && this.#o.mqttVersion === 5) {
      this.#version = 5;
    }
    if (wasReady) this.#retry.sessionEnded();
    this.#failed(this.#lastError ?? "connection closed");
  }

  #failed(error: string, auth = false): void {
    if (this.#state === "stopped") return;
    const delay = this.#retry.nextDelay();
    // The status emitted with the new state must already carry this retry's time.
    this.#retry.nextRetryAt = Date.now() + delay;
    this.#setState(auth ? "authFailed" : "backoff", error);
    this.#retry.schedule(delay);
  }

  #retryDue(): void {
    if (this.#state === "stopped") return;
    this.#reconnects++;
    this.#connect();
  }

  #killClient(): void {
    const c = this.#client;
    this.#client = null;
    this.#gen++;
    if (c) {
      // Its own listeners stay (they check the generation and ignore a dead client); removing
      // them would also strip MQTT.js's internal ones. A late error must not become uncaught.
      c.on("error", () => {});
      c.end(true);
    }
  }

  #restartNow(): void {
    const wasReady = this.#ready;
    this.#ready = false;
    this.#killClient();
    if (wasReady) this.#listeners.emit("disconnected");
    this.#retry.reset();
    this.#retry.schedule(0);
  }

  /** The watchdog: whatever state MQTT.js is in, we are either connected, connecting (bounded), or have a retry pending. */
  #checkWatchdog(): void {
    const now = Date.now();
    if (this.#state === "stopped") return;
    if (this.#state === "connected" && this.#client?.connected !== true) {
      this.#o.log.warn("watchdog: client lost its connection without telling us; recreating it");
      this.#onClosed();
    } else if (this.#state === "connecting" && now - this.#since > (this.#o.connectTimeoutMs ?? 10_000) + 5000) {
      this.#o.log.warn("watchdog: connect attempt hung; recreating the client");
      this.#killClient();
      this.#failed("connect attempt timed out");
    } else if ((this.#state === "backoff" || this.#state === "authFailed") && !this.#retry.pending) {
      this.#o.log.warn("watchdog: no reconnect was pending; scheduling one");
      this.#retry.schedule(0);
    }
  }
}
