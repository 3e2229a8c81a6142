// The MQTT listener: plain TCP, or TLS when a certificate and key are given. It can stop
// accepting (an outage) and listen again on the same port, which tests of reconnect logic need.
import net from "node:net";
import tls from "node:tls";
import type { EmulatorLog } from "./log.ts";
import { MqttSession, type SessionHost } from "./session.ts";

export interface TlsFiles {
  cert: string | Buffer;
  key: string | Buffer;
}

export class MqttListener {
  private server: net.Server | undefined;
  private readonly sockets = new Set<net.Socket>();
  private readonly live = new Set<MqttSession>();
  private boundPort = 0;

  constructor(
    private readonly host: SessionHost,
    private readonly bindHost: string,
    private readonly log: EmulatorLog,
    private readonly tlsFiles?: TlsFiles,
  ) {}

  get port(): number {
    return this.boundPort;
  }

  get listening(): boolean {
    return this.server?.listening ?? false;
  }

  /** Listens on `port` (0 = ephemeral on first start); the chosen port is kept for resume(). */
  async listen(port: number): Promise<void> {
    if (this.server) throw new Error("MQTT listener is already listening");
    const onSocket = (socket: net.Socket): void => {
      this.sockets.add(socket);
      socket.setNoDelay(true);
      const session = new MqttSession(socket, this.host);
      this.live.add(session);
      socket.on("close", () => {
        this.sockets.delete(socket);
        this.live.delete(session);
      });
    };
    const server = this.tlsFiles
      ? tls.createServer({ cert: this.tlsFiles.cert, key: this.tlsFiles.key }, onSocket)
      : net.createServer(onSocket);
    await new Promise<void>((resolve, reject) => {
      const onError = (err: Error): void => reject(err);
      server.once("error", onError);
      server.listen({ host: this.bindHost, port }, () => {
        server.off("error", onError);
        resolve();
      });
    });
    // Only once listening: a port in use is the caller's to report (the demo moves to a free port),
    // not an error line of its own before that (issue 13).
    server.on("error", (err) => this.log.error(`MQTT listener error: ${err.message}`));
    const addr = server.address();
    this.boundPort = typeof addr === "object" && addr ? addr.port : port;
    this.server = server;
  }

  /** Drops every connection now (no DISCONNECT, like a network cut); keeps listening. */
  dropConnections(): void {
    for (const s of Array.from(this.live)) s.destroy();
    for (const sock of Array.from(this.sockets)) sock.destroy();
  }

  /** Stops accepting and drops existing connections. */
  async close(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    this.dropConnections();
    if (!server) return;
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /** Listens again on the port chosen the first time. */
  async resume(): Promise<void> {
    if (this.server) return;
    await this.listen(this.boundPort);
  }
}
