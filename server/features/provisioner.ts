// Runs self-provisioning until it works: at first boot ThingsBoard may be unreachable, the key
// may be wrong, or the device may already exist. Each failure is logged with a hint, shown in
// the connection status, and retried with backoff; success stores the credentials and hands
// them to the connection.
import { readFileSync } from "node:fs";
import type { Config } from "../config/schema.ts";
import { provisionGateway, saveCredentials, ProvisionError, type StoredCredentials } from "../gateway/provisioning.ts";
import type { Logger } from "../util/logger.ts";
import { detach } from "../util/detach.ts";
import type { Feature } from "./feature.ts";

export interface ProvisionerOptions {
  file: string;
  tb: Config["thingsboard"];
  provision: NonNullable<Config["thingsboard"]["provision"]>;
  unit: string;
  log: Logger;
  onSuccess: (creds: StoredCredentials, deviceName: string) => void;
  onFailure: (error: string, nextRetryAt: number) => void;
}

export class Provisioner implements Feature {
  #o: ProvisionerOptions;
  #running = false;
  #timer: NodeJS.Timeout | null = null;

  constructor(o: ProvisionerOptions) {
    this.#o = o;
  }

  get deviceName(): string {
    return this.#o.provision.deviceName?.replaceAll("{unit}", this.#o.unit) ?? `${this.#o.unit} Gateway`;
  }

  start(): void {
    this.#running = true;
    detach("provisioning", this.#attempt(0), this.#o.log);
  }

  stop(): void {
    this.#running = false;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
  }

  async #attempt(n: number): Promise<void> {
    const { tb, provision: p, log, file } = this.#o;
    const name = this.deviceName;
    try {
      log.info(`provisioning this unit as gateway device "${name}" at ${tb.host}:${tb.port}`);
      const ca = tb.tls.enabled && tb.tls.caFile ? readFileSync(tb.tls.caFile) : undefined;
      const creds = await provisionGateway({
        host: tb.host,
        port: tb.port,
        mqttVersion: tb.mqttVersion,
        key: p.key,
        secret: p.secret,
        deviceName: name,
        tls: { enabled: tb.tls.enabled, ca, rejectUnauthorized: tb.tls.rejectUnauthorized },
        timeoutMs: 60_000,
      });
      if (!this.#running) return;
      saveCredentials(file, creds);
      log.root.addSecret(creds.accessToken ?? creds.password);
      log.info(`provisioned as "${name}"; credentials stored in ${file} (mode 0600)`);
      this.#o.onSuccess(creds, name);
    } catch (err) {
      if (!this.#running) return;
      const status = err instanceof ProvisionError ? err.status : "ERROR";
      const hint =
        status === "NOT_FOUND"
          ? " (check thingsboard.provision.key/secret and that the device profile allows provisioning)"
          : status === "FAILURE"
            ? ` (a device named "${name}" may already exist: delete it or set thingsboard.accessToken)`
            : "";
      const delay = Math.min(300_000, 5000 * 2 ** Math.min(n, 6));
      log.error(`provisioning failed: ${(err as Error).message}${hint}; retrying in ${Math.round(delay / 1000)} s`);
      this.#o.onFailure(`provisioning: ${(err as Error).message}`, Date.now() + delay);
      this.#timer = setTimeout(() => detach("provisioning", this.#attempt(n + 1), log), delay);
    }
  }
}
