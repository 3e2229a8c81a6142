// The ThingsBoard side of an OTA download: chunk requests on v2/sw/request/{requestId}/chunk/{n}
// answered on v2/sw/response/{requestId}/chunk/{n} (MqttTopics), errors on v2/fw/error (which
// ThingsBoard uses for software too: MqttTransportHandler.sendOtaPackageError), and resuming
// after a lost connection. The bytes go to disk through chunkDownload.ts; everything after the
// download (checksum, manifest, apply) is applyPackage.ts, shared with the dashboard upload.
import type { Logger } from "../../util/logger.ts";
import { downloadPackage, OtaDownloadError, type ChunkSource } from "./chunkDownload.ts";
import type { OtaFiles, OtaTarget } from "./otaFiles.ts";

export interface ChunkLink {
  publish(topic: string, payload: string): Promise<void>;
  onMessage(cb: (topic: string, payload: Buffer) => void): void;
  /** The session's maxPayloadSize from getSessionLimits, when known. */
  maxPayloadSize(): number | undefined;
}

export interface TbChunksOptions {
  link: ChunkLink;
  log: Logger;
  chunkBytes: number;
  chunkTimeoutMs: number;
}

export class OtaServerError extends Error {}

const RESPONSE = /^v2\/sw\/response\/(\d+)\/chunk\/(\d+)$/;

export class TbChunks implements ChunkSource {
  readonly #o: TbChunksOptions;
  #nextRequestId = 1;
  #waiters = new Map<string, { resolve: (b: Buffer) => void; reject: (e: Error) => void; timer: NodeJS.Timeout }>();
  #connected = false;
  #onConnect: Array<() => void> = [];

  constructor(o: TbChunksOptions) {
    this.#o = o;
    o.link.onMessage((t, p) => this.#onMessage(t, p));
  }

  connected(): void {
    this.#connected = true;
    for (const resolve of this.#onConnect.splice(0)) resolve();
  }

  disconnected(): void {
    this.#connected = false;
    this.#rejectAll(() => new Error("connection lost"));
  }

  stop(): void {
    for (const resolve of this.#onConnect.splice(0)) resolve();
    this.#rejectAll(() => new OtaDownloadError("cancelled"));
  }

  chunk(requestId: number, n: number, chunkSize: number): Promise<Buffer> {
    return new Promise((resolve, reject) => {
      const key = `${requestId}/${n}`;
      const timer = setTimeout(() => {
        this.#waiters.delete(key);
        reject(new Error(`no answer to chunk ${n} within ${this.#o.chunkTimeoutMs} ms`));
      }, this.#o.chunkTimeoutMs);
      this.#waiters.set(key, { resolve, reject, timer });
      this.#o.link.publish(`v2/sw/request/${requestId}/chunk/${n}`, String(chunkSize)).catch((err: unknown) => {
        clearTimeout(timer);
        this.#waiters.delete(key);
        reject(err instanceof Error ? err : new Error(String(err)));
      });
    });
  }

  /** Downloads with resume: a lost connection waits for the next one and carries on where it stopped. */
  async download(
    files: OtaFiles,
    t: OtaTarget,
    progress: (received: number) => void,
    cancelled: () => boolean,
  ): Promise<void> {
    let failures = 0;
    for (;;) {
      const limit = this.#o.link.maxPayloadSize() ?? this.#o.chunkBytes;
      const chunkSize = Math.max(1, Math.min(this.#o.chunkBytes, limit));
      try {
        await downloadPackage(
          files,
          t,
          this,
          chunkSize,
          this.#nextRequestId++,
          (received) => {
            failures = 0;
            progress(received);
          },
          cancelled,
        );
        return;
      } catch (err) {
        if (err instanceof OtaDownloadError || err instanceof OtaServerError) throw err;
        if (++failures >= 5) throw new Error(`download stopped: ${(err as Error).message}`, { cause: err });
        this.#o.log.warn(`download of sw ${t.version} interrupted (${(err as Error).message}); resuming`);
        await this.#whenConnected();
      }
    }
  }

  #whenConnected(): Promise<void> {
    if (this.#connected) return Promise.resolve();
    return new Promise((resolve) => this.#onConnect.push(resolve));
  }

  #rejectAll(error: () => Error): void {
    for (const [k, w] of this.#waiters) {
      clearTimeout(w.timer);
      w.reject(error());
      this.#waiters.delete(k);
    }
  }

  #onMessage(topic: string, payload: Buffer): void {
    const m = RESPONSE.exec(topic);
    if (m) {
      const key = `${m[1]}/${m[2]}`;
      const w = this.#waiters.get(key);
      if (!w) return;
      clearTimeout(w.timer);
      this.#waiters.delete(key);
      w.resolve(payload);
      return;
    }
    if (topic === "v2/fw/error" || topic === "v2/sw/error") {
      const text = payload.toString("utf8").slice(0, 200);
      this.#rejectAll(() => new OtaServerError(`ThingsBoard answered ${text}`));
    }
  }
}
