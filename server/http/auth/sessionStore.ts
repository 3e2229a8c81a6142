// Server-side sessions: the cookie carries a random 32-byte id; the map is keyed by its SHA-256
// so lookups leak nothing about valid ids through timing. Kept in memory on purpose: a restart
// means logging in again, and nothing secret is written to the SD card.
import { createHash, randomBytes } from "node:crypto";
import type { Role } from "../protocol.ts";

export interface Session {
  /** SHA-256 of the cookie id, hex: also the socket.io room of this session's sockets. */
  key: string;
  role: Role;
  createdAt: number;
  expiresAt: number;
}

/** Sessions kept per role. When a role is full its own oldest session goes: a flood of viewer
 *  logins can never push the admin out (issue 12: 1000 viewer logins evicted the admin). */
export const MAX_SESSIONS: Readonly<Record<Role, number>> = { admin: 50, viewer: 1000 };

export function sessionKey(id: string): string {
  return createHash("sha256").update(id).digest("hex");
}

export class SessionStore {
  #sessions = new Map<string, Session>();
  readonly ttlMs: number;
  #now: () => number;

  readonly #max: Readonly<Record<Role, number>>;

  constructor(ttlMs: number, now: () => number = Date.now, max: Readonly<Record<Role, number>> = MAX_SESSIONS) {
    if (!(ttlMs > 0)) throw new RangeError(`Invalid session TTL ${ttlMs}`);
    this.ttlMs = ttlMs;
    this.#now = now;
    this.#max = max;
  }

  get size(): number {
    return this.#sessions.size;
  }

  /** A new session; `evicted` is the key of the same role's oldest session if the role was full
   *  (its sockets must be disconnected). */
  create(role: Role): { id: string; session: Session; evicted?: string } {
    let evicted: string | undefined;
    let count = 0;
    let oldest: string | undefined;
    // Maps iterate in insertion order: the first of a role is its oldest session.
    for (const s of this.#sessions.values()) {
      if (s.role !== role) continue;
      oldest ??= s.key;
      count++;
    }
    if (count >= this.#max[role] && oldest !== undefined) {
      this.#sessions.delete(oldest);
      evicted = oldest;
    }
    const id = randomBytes(32).toString("base64url");
    const now = this.#now();
    const session: Session = { key: sessionKey(id), role, createdAt: now, expiresAt: now + this.ttlMs };
    this.#sessions.set(session.key, session);
    return evicted === undefined ? { id, session } : { id, session, evicted };
  }

  /** The live session for a cookie id, or null (unknown, malformed or expired). */
  get(id: string | undefined): Session | null {
    if (!id || id.length > 100) return null;
    const s = this.#sessions.get(sessionKey(id));
    if (!s) return null;
    if (s.expiresAt <= this.#now()) {
      this.#sessions.delete(s.key);
      return null;
    }
    return s;
  }

  isLive(key: string): boolean {
    const s = this.#sessions.get(key);
    return s !== undefined && s.expiresAt > this.#now();
  }

  delete(id: string | undefined): Session | null {
    const s = this.get(id);
    if (s) this.#sessions.delete(s.key);
    return s;
  }

  /** Drops expired sessions and returns their keys (their sockets must be disconnected). */
  prune(): string[] {
    const now = this.#now();
    const gone: string[] = [];
    for (const [key, s] of this.#sessions) {
      if (s.expiresAt <= now) {
        this.#sessions.delete(key);
        gone.push(key);
      }
    }
    return gone;
  }
}
