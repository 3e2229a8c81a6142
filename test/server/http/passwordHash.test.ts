import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { hashPassword, parsePasswordHash, verifyPassword } from "../../../server/http/auth/passwordHash.ts";

describe("password hashing", () => {
  test("salted: the same password hashes differently, and verifies", async () => {
    const a = await hashPassword("correct horse");
    const b = await hashPassword("correct horse");
    assert.notEqual(a, b);
    const parsed = parsePasswordHash(a);
    assert.ok(parsed.ok);
    assert.equal(await verifyPassword("correct horse", parsed.value), true);
    assert.equal(await verifyPassword("correct horsE", parsed.value), false);
    assert.equal(await verifyPassword("", parsed.value), false);
  });

  test("malformed or hostile hashes are refused with a reason", () => {
    const cases: [string, RegExp][] = [
      ["", /expected "scrypt/],
      ["bcrypt$2$x$y$z$w", /expected "scrypt/],
      ["scrypt$1000$8$1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA", /power of two/],
      ["scrypt$1073741824$8$1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA", /power of two/],
      ["scrypt$16384$99$1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA", /r must be/],
      ["scrypt$16384$8$1$$aGFzaGhhc2hoYXNoaGFzaA", /salt too short/],
      ["scrypt$16384$8$1$c2FsdHNhbHQ$aGFzaA", /hash length/],
      // Issue 12: in range one by one, but 4 GiB (N=2^20, r=32) or far too slow per login attempt.
      ["scrypt$1048576$32$16$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA", /N\*r too large/],
      ["scrypt$65536$8$1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA", /N\*r too large/],
      ["scrypt$16384$8$16$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA", /N\*r\*p must be at most/],
    ];
    for (const [input, expected] of cases) {
      const r = parsePasswordHash(input);
      assert.equal(r.ok, false, input);
      if (!r.ok) assert.match(r.error, expected);
    }
    // The costliest accepted: 32 MiB per attempt.
    assert.equal(parsePasswordHash("scrypt$32768$8$1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA").ok, true);
    assert.equal(parsePasswordHash("scrypt$16384$8$8$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA").ok, true);
  });
});
