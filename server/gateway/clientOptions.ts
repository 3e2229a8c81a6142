// MQTT.js options for one connection attempt to ThingsBoard.
import { readFileSync } from "node:fs";
import type { IClientOptions } from "mqtt";
import type { ConnectionOptions } from "./connection.ts";

/** Default limit on one packet from the server: far above any RPC or attribute update a unit
 *  needs, far below what a 128 MB heap can parse (issue 12: 40-60 MB killed it). */
export const DEFAULT_MAX_INBOUND_BYTES = 1024 * 1024;

export function maxInboundBytes(o: ConnectionOptions): number {
  return o.maxInboundBytes ?? DEFAULT_MAX_INBOUND_BYTES;
}

export function clientOptions(o: ConnectionOptions, version: 4 | 5): IClientOptions {
  const opts: IClientOptions = {
    host: o.host,
    port: o.port,
    protocol: o.tls?.enabled ? "mqtts" : "mqtt",
    protocolVersion: version,
    clean: true, // ThingsBoard keeps no session state (§1.1, §6.3)
    keepalive: o.keepaliveSec,
    reconnectPeriod: 0,
    connectTimeout: o.connectTimeoutMs ?? 10_000,
    queueQoSZero: false,
    resubscribe: false,
    // mqtt-packet's writer otherwise builds, on its first packet, a cache of 65,536 two-byte Buffers
    // (one per message id): ~6 MB of heap and 65k objects for the GC to trace, the largest item in a
    // heap snapshot of the appliance (docs/benchmarks.md, footprint). Without it the writer allocates
    // 2 bytes per packet, a few dozen a second here. The flag is module-wide in mqtt-packet.
    writeCache: false,
  };
  // MQTT 5 §3.1.2.11.4: the server must not send us a packet larger than this (inboundSizeGuard.ts
  // enforces it on both versions, whatever the server does).
  if (version === 5) opts.properties = { maximumPacketSize: maxInboundBytes(o) };
  if (o.accessToken) opts.username = o.accessToken;
  else {
    if (o.username) opts.username = o.username;
    if (o.password) opts.password = o.password;
  }
  if (o.clientId) opts.clientId = o.clientId;
  if (o.tls?.enabled) {
    if (o.tls.caFile) opts.ca = readFileSync(o.tls.caFile);
    if (o.tls.certFile) opts.cert = readFileSync(o.tls.certFile);
    if (o.tls.keyFile) opts.key = readFileSync(o.tls.keyFile);
    opts.rejectUnauthorized = o.tls.rejectUnauthorized;
  }
  return opts;
}
