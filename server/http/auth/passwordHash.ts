// Password hashing with scrypt (node:crypto), stored as "scrypt$N$r$p$salt$hash" (base64url).
// Plain passwords never reach disk or logs; comparison is constant-time.
import { randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from "node:crypto";

/** Cost parameters: N=2^14, r=8 uses 16 MiB and takes ~0.1-0.3 s on a Pi 4, fine for logins. */
const DEFAULT = { N: 16384, r: 8, p: 1 } as const;
/** Per login attempt: 32 MiB (twice the default), so a few at once stay far under MemoryMax=384M. */
const MAX_SCRYPT_MEMORY = 32 * 1024 * 1024;
/** 8x the default's N*r*p: seconds per login on a Pi at most. */
const MAX_SCRYPT_WORK = 8 * DEFAULT.N * DEFAULT.r * DEFAULT.p;
const KEY_LEN = 32;
const SALT_LEN = 16;
const PREFIX = "scrypt";

export interface ParsedHash {
  N: number;
  r: number;
  p: number;
  salt: Buffer;
  hash: Buffer;
}

function scryptAsync(password: string, salt: Buffer, keyLen: number, opts: ScryptOptions): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    scrypt(password.normalize("NFKC"), salt, keyLen, opts, (err, key) => (err ? reject(err) : resolve(key)));
  });
}

function maxmemFor(N: number, r: number): number {
  // scrypt needs 128*N*r bytes; Node's default limit (32 MiB) refuses larger, so give headroom.
  return 128 * N * r * 2 + 1024 * 1024;
}

/** Parses a stored hash; returns a message saying what is wrong instead of throwing. */
export function parsePasswordHash(encoded: string): { ok: true; value: ParsedHash } | { ok: false; error: string } {
  const parts = encoded.trim().split("$");
  if (parts.length !== 6 || parts[0] !== PREFIX) return { ok: false, error: 'expected "scrypt$N$r$p$salt$hash"' };
  const [N, r, p] = [Number(parts[1]), Number(parts[2]), Number(parts[3])];
  // N must be a power of two; bounds keep a hostile or mistyped hash from exhausting memory or CPU.
  if (!Number.isInteger(N) || N < 1024 || N > 1 << 20 || (N & (N - 1)) !== 0)
    return { ok: false, error: "N must be a power of two 1024-1048576" };
  if (!Number.isInteger(r) || r < 1 || r > 32) return { ok: false, error: "r must be 1-32" };
  if (!Number.isInteger(p) || p < 1 || p > 16) return { ok: false, error: "p must be 1-16" };
  // Within those, what one login may cost: scrypt takes 128*N*r bytes (N=2^20, r=32 is 4 GiB, far
  // over the unit's MemoryMax=384M, issue 12) and time in proportion to N*r*p.
  if (128 * N * r > MAX_SCRYPT_MEMORY)
    return { ok: false, error: `N*r too large: 128*N*r must be at most ${MAX_SCRYPT_MEMORY / 1048576} MiB` };
  if (N * r * p > MAX_SCRYPT_WORK)
    return {
      ok: false,
      error: `N*r*p must be at most ${MAX_SCRYPT_WORK} (${MAX_SCRYPT_WORK / (DEFAULT.N * DEFAULT.r * DEFAULT.p)}x the default cost)`,
    };
  const salt = Buffer.from(parts[4] ?? "", "base64url");
  const hash = Buffer.from(parts[5] ?? "", "base64url");
  if (salt.length < 8) return { ok: false, error: "salt too short" };
  if (hash.length < 16 || hash.length > 128) return { ok: false, error: "hash length must be 16-128 bytes" };
  return { ok: true, value: { N, r, p, salt, hash } };
}

export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(SALT_LEN);
  const key = await scryptAsync(password, salt, KEY_LEN, { ...DEFAULT, maxmem: maxmemFor(DEFAULT.N, DEFAULT.r) });
  return [PREFIX, DEFAULT.N, DEFAULT.r, DEFAULT.p, salt.toString("base64url"), key.toString("base64url")].join("$");
}

export async function verifyPassword(password: string, stored: ParsedHash): Promise<boolean> {
  const key = await scryptAsync(password, stored.salt, stored.hash.length, {
    N: stored.N,
    r: stored.r,
    p: stored.p,
    maxmem: maxmemFor(stored.N, stored.r),
  });
  return timingSafeEqual(key, stored.hash);
}
