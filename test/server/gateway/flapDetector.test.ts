// The pattern of two gateways on one access token (issue 13), on a fake clock: sessions that end
// right after they open, several in a row, and ThingsBoard's SESSION_TAKEN_OVER on MQTT 5.
import { test } from "node:test";
import assert from "node:assert/strict";
import { MAX_ATTEMPTS } from "../../../server/gateway/deliveryAttempts.ts";
import {
  SessionFlapDetector,
  SHORT_SESSION_MS,
  SHORT_SESSIONS_BEFORE_WARNING,
} from "../../../server/gateway/flapDetector.ts";

const SERVER = "tb.local:1883";

function detector(): { d: SessionFlapDetector; session: (lastMs: number, reason?: number) => string | null } {
  let now = 1_000_000;
  const d = new SessionFlapDetector(() => now);
  return {
    d,
    session: (lastMs, reason) => {
      d.opened();
      now += lastMs;
      const out = d.closed(SERVER, reason);
      now += 1000; // the reconnect backoff
      return out;
    },
  };
}

test("short sessions in a row: one warning naming shared credentials, once per run", () => {
  const { d, session } = detector();
  for (let i = 1; i < SHORT_SESSIONS_BEFORE_WARNING; i++)
    assert.equal(session(1500), null, `short session ${i} alone is not a pattern`);
  const warning = session(1500);
  assert.equal(
    warning,
    `ThingsBoard at ${SERVER} closes the session right after it opens (${SHORT_SESSIONS_BEFORE_WARNING} times in a row): another client may be using the same credentials: a second gateway with this access token, or this one running twice (each takes the session over when it reconnects). Give each gateway its own device and access token.`,
  );
  assert.equal(d.active, true);
  assert.equal(session(1500), null, "not repeated while the pattern lasts");
  assert.equal(d.active, true);
  // A session that lasts ends the pattern; a new run warns again.
  assert.equal(session(SHORT_SESSION_MS + 1), null);
  assert.equal(d.active, false);
  for (let i = 1; i < SHORT_SESSIONS_BEFORE_WARNING; i++) assert.equal(session(100), null);
  assert.match(session(100) ?? "", /same credentials/);
});

test("a poison message (closed sessions until it becomes a dead letter) is no run", () => {
  // One failure in a batch, then MAX_ATTEMPTS alone: the sender then sets it aside (deliveryAttempts.ts).
  assert.ok(SHORT_SESSIONS_BEFORE_WARNING > 1 + MAX_ATTEMPTS);
});

test("ordinary outages (long sessions, now and then) never warn", () => {
  const { d, session } = detector();
  for (let i = 0; i < 20; i++) {
    assert.equal(session(SHORT_SESSION_MS * 3), null);
    assert.equal(session(SHORT_SESSION_MS), null);
  }
  // A short one between long ones is no run.
  for (let i = 0; i < 10; i++) {
    assert.equal(session(500), null);
    assert.equal(session(SHORT_SESSION_MS * 2), null);
  }
  assert.equal(d.active, false);
  assert.equal(d.closed(SERVER), null, "a close without an open (never ready) counts for nothing");
});

test("MQTT 5 SESSION_TAKEN_OVER names the cause at once, even after a long session", () => {
  const { session } = detector();
  assert.equal(
    session(SHORT_SESSION_MS * 100, 0x8e),
    `ThingsBoard at ${SERVER} closed the session with DISCONNECT SESSION_TAKEN_OVER 0x8e: another client is connected with the same credentials: a second gateway with this access token, or this one running twice (each takes the session over when it reconnects). Give each gateway its own device and access token.`,
  );
  assert.equal(session(500, 0x8e), null, "once per run");
});

test("another DISCONNECT reason repeated: named, without blaming credentials", () => {
  const { session } = detector();
  for (let i = 1; i < SHORT_SESSIONS_BEFORE_WARNING; i++) assert.equal(session(200, 0x97), null);
  assert.equal(
    session(200, 0x97),
    `ThingsBoard at ${SERVER} closes the session right after it opens (${SHORT_SESSIONS_BEFORE_WARNING} times in a row), with DISCONNECT QUOTA_EXCEEDED 0x97.`,
  );
});
