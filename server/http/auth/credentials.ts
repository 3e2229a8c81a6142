// Who may log in: the admin password (config `dashboard.password` / DASHBOARD_PASSWORD, else
// `dashboard.passwordHash`, else the hash stored by the setup step) and the optional read-only
// viewer password. There is no default password: with none configured the dashboard stays locked
// until someone with console access enters the one-time code printed in the log at start-up.
import { randomBytes, randomInt, timingSafeEqual } from "node:crypto";
import { mkdir, open, readFile, rename } from "node:fs/promises";
import { join } from "node:path";
import type { Config } from "../../config/schema.ts";
import type { Logger } from "../../util/logger.ts";
import { isObject, parseJson } from "../../util/json.ts";
import type { Role } from "../protocol.ts";
import { hashPassword, parsePasswordHash, verifyPassword, type ParsedHash } from "./passwordHash.ts";

export const AUTH_FILE = "dashboard-auth.json";
export const MIN_PASSWORD = 8;
export const MAX_PASSWORD = 256;
/** No 0/O/1/I: the code is read off a console and typed on a phone. */
const CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789";

export type SetupResult = { ok: true } | { ok: false; status: number; error: string };

export function validateNewPassword(password: unknown): string | null {
  if (typeof password !== "string") return "password must be a string";
  if (password.length < MIN_PASSWORD) return `password must be at least ${MIN_PASSWORD} characters`;
  if (password.length > MAX_PASSWORD) return `password must be at most ${MAX_PASSWORD} characters`;
  return null;
}

function formatCode(code: string): string {
  return `${code.slice(0, 5)}-${code.slice(5)}`;
}

function normaliseCode(code: string): string {
  return code.toUpperCase().replace(/[\s-]/g, "");
}

export class Credentials {
  #admin: ParsedHash | null = null;
  #viewer: ParsedHash | null = null;
  #setupCode: string | null = null;
  #dataDir: string;
  #log: Logger;

  private constructor(dataDir: string, log: Logger) {
    this.#dataDir = dataDir;
    this.#log = log;
  }

  static async load(config: Config, dataDir: string, log: Logger): Promise<Credentials> {
    const c = new Credentials(dataDir, log);
    const d = config.dashboard;
    if (d.password) {
      c.#admin = mustParse(await hashPassword(d.password));
      log.root.addSecret(d.password);
    } else if (d.passwordHash) {
      const parsed = parsePasswordHash(d.passwordHash);
      if (parsed.ok) c.#admin = parsed.value;
      else
        log.error(
          `dashboard.passwordHash is not usable (${parsed.error}); falling back to the stored password or the setup step`,
        );
    }
    if (!c.#admin) c.#admin = await c.#readStoredHash();
    if (d.viewerPassword) {
      c.#viewer = mustParse(await hashPassword(d.viewerPassword));
      log.root.addSecret(d.viewerPassword);
    }
    if (!c.#admin) {
      let code = "";
      for (let i = 0; i < 10; i++) code += CODE_ALPHABET[randomInt(CODE_ALPHABET.length)];
      c.#setupCode = code;
      log.warn(
        `dashboard: no password is set. Open the dashboard and enter this one-time setup code with a new password: ${formatCode(code)}`,
      );
    }
    return c;
  }

  /** The pending setup code as printed ("ABCDE-FGHJK"), or null once a password is set. */
  get setupCode(): string | null {
    return this.#setupCode ? formatCode(this.#setupCode) : null;
  }

  get setupRequired(): boolean {
    return this.#admin === null;
  }

  get viewerEnabled(): boolean {
    return this.#viewer !== null;
  }

  /** The role this password grants, or null. */
  async check(password: string): Promise<Role | null> {
    if (password.length === 0 || password.length > MAX_PASSWORD) return null;
    if (this.#admin && (await verifyPassword(password, this.#admin))) return "admin";
    if (this.#viewer && (await verifyPassword(password, this.#viewer))) return "viewer";
    return null;
  }

  /** Sets the admin password from the setup page, proving console access with the one-time code. */
  async completeSetup(code: unknown, password: unknown): Promise<SetupResult> {
    if (!this.#setupCode)
      return {
        ok: false,
        status: 409,
        error: this.#admin ? "a password is already set" : "the password is being set by another request",
      };
    if (typeof code !== "string" || code.length > 64) return { ok: false, status: 400, error: "code must be a string" };
    const given = Buffer.from(normaliseCode(code));
    const expected = Buffer.from(this.#setupCode);
    if (given.length !== expected.length || !timingSafeEqual(given, expected))
      return { ok: false, status: 403, error: "wrong setup code" };
    const bad = validateNewPassword(password);
    if (bad) return { ok: false, status: 400, error: bad };
    // The code is claimed before the first await: of concurrent requests with the right code exactly
    // one gets past this line, and the hash saved is that one's (issue 12: five at once gave 2-3
    // admin sessions and a saved hash that belonged to a request answered 500).
    const claimed = this.#setupCode;
    this.#setupCode = null;
    try {
      const encoded = await hashPassword(password as string);
      await this.#writeStoredHash(encoded);
      this.#admin = mustParse(encoded);
    } catch (err) {
      this.#setupCode = claimed; // nothing was set: the code stays valid for another try
      this.#log.error(`dashboard: could not save the new password: ${(err as Error).message}`);
      return { ok: false, status: 500, error: "could not save the new password" };
    }
    this.#log.info("dashboard: admin password set through the setup step");
    return { ok: true };
  }

  async #readStoredHash(): Promise<ParsedHash | null> {
    const path = join(this.#dataDir, AUTH_FILE);
    let text: string;
    try {
      text = await readFile(path, "utf8");
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "ENOENT")
        this.#log.error(`dashboard: cannot read ${path}: ${(err as Error).message}`);
      return null;
    }
    const json = parseJson(text);
    const hash = json.ok && isObject(json.value) ? json.value["passwordHash"] : undefined;
    const parsed =
      typeof hash === "string" ? parsePasswordHash(hash) : { ok: false as const, error: "no passwordHash" };
    if (!parsed.ok) {
      this.#log.error(`dashboard: ${path} is corrupt (${parsed.error}); the setup step is needed again`);
      return null;
    }
    return parsed.value;
  }

  /** Write-to-temp, fsync, rename: a power cut leaves the old file or the new one, never half. */
  async #writeStoredHash(encoded: string): Promise<void> {
    await mkdir(this.#dataDir, { recursive: true });
    const path = join(this.#dataDir, AUTH_FILE);
    // A name of its own per write: two writers never share (and truncate) one temporary file.
    const tmp = `${path}.${process.pid}.${randomBytes(6).toString("hex")}.tmp`;
    const fh = await open(tmp, "w", 0o600);
    try {
      await fh.writeFile(JSON.stringify({ passwordHash: encoded, setAt: new Date().toISOString() }) + "\n");
      await fh.chmod(0o600); // the umask may have widened the mode given to open()
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, path);
    try {
      const dir = await open(this.#dataDir, "r");
      try {
        await dir.sync();
      } finally {
        await dir.close();
      }
    } catch {
      /* directory fsync is not supported everywhere; the rename already happened */
    }
  }
}

function mustParse(encoded: string): ParsedHash {
  const parsed = parsePasswordHash(encoded);
  if (!parsed.ok) throw new Error(`internal: freshly made hash does not parse: ${parsed.error}`);
  return parsed.value;
}
