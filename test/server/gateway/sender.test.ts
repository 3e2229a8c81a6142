// The sender on a real outbox (SQLite in a temp dir) with a recording publish function:
// at-least-once, merged replay, live readings first-in-line during a large backlog, rate limits,
// the in-flight window, and poison messages.
import { afterEach, beforeEach, describe, test } from "node:test";
import assert from "node:assert/strict";
import { rmSync } from "node:fs";
import { Outbox } from "../../../server/outbox/outbox.ts";
import { PublishError } from "../../../server/gateway/connection.ts";
import { Sender } from "../../../server/gateway/sender.ts";
import { silentLogger } from "../../../server/util/logger.ts";
import { until } from "../../fakes/waitFor.ts";
import { tempDir } from "../../fakes/tempDir.ts";

const tel = (seq: number) => JSON.stringify({ D: [{ ts: seq, values: { seq } }] });
const seqsOf = (payload: string) =>
  (JSON.parse(payload) as { D: Array<{ values: { seq: number } }> }).D.map((r) => r.values.seq);

describe("Sender", () => {
  let dir: string;
  let outbox: Outbox;
  beforeEach(() => {
    dir = tempDir("sender-");
    outbox = Outbox.open({ dir, diskFlushMs: 1000, log: silentLogger() });
  });
  afterEach(() => {
    outbox.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test("a backlog is replayed merged into few publishes, every reading exactly once, history in order", async () => {
    for (let i = 0; i < 3000; i++) outbox.enqueue("v1/gateway/telemetry", tel(i), 1);
    const published: number[][] = [];
    const s = new Sender(
      outbox,
      async (_t, p) => {
        published.push(seqsOf(p));
      },
      silentLogger(),
      { window: 4 },
      () => 16_384,
    );
    s.resume();
    await until(() => outbox.pending === 0 && outbox.inFlight === 0, "drained");
    const all = published.flat();
    assert.equal(all.length, 3000);
    assert.equal(new Set(all).size, 3000, "no duplicates when every publish is acked");
    assert.ok(published.length < 3000 / 50, `merged: ${published.length} publishes for 3000 messages`);
    // Live turns take from the tail: the very newest reading goes out in the first few publishes.
    const firstNewest = published.findIndex((p) => p.includes(2999));
    assert.ok(firstNewest >= 0 && firstNewest < 4, `newest reading in publish #${firstNewest}`);
    // Backlog publishes (from the head) are in order among themselves.
    const heads = published
      .filter((p) => p[0]! < 1500)
      .flat()
      .filter((x) => x < 1500);
    assert.deepEqual(
      heads,
      [...heads].sort((a, b) => a - b),
    );
  });

  test("a failed publish goes back and is retried; at-least-once", async () => {
    for (let i = 0; i < 10; i++) outbox.enqueue("v1/gateway/telemetry", tel(i), 1);
    let fail = 2;
    const got: number[] = [];
    const s = new Sender(
      outbox,
      async (_t, p) => {
        if (fail-- > 0) throw new PublishError("connection closed");
        got.push(...seqsOf(p));
      },
      silentLogger(),
      { window: 1 },
    );
    s.resume();
    await until(() => outbox.pending === 0 && outbox.inFlight === 0, "drained after retries");
    assert.deepEqual(
      [...new Set(got)].sort((a, b) => a - b),
      [...Array(10).keys()],
    );
    assert.equal(s.stats.retried, 2);
  });

  test("pause releases what is in flight; nothing is lost", async () => {
    for (let i = 0; i < 5; i++) outbox.enqueue("v1/gateway/attributes", JSON.stringify({ D: { k: i } }), 1);
    const never = new Sender(outbox, () => new Promise(() => {}), silentLogger(), { window: 3 });
    never.resume();
    await until(() => outbox.inFlight > 0, "in flight");
    never.pause();
    assert.equal(outbox.inFlight, 0);
    assert.equal(outbox.pending, 5);
  });

  test("rate limits pace the drain (messages per second)", async () => {
    for (let i = 0; i < 6; i++) outbox.enqueue("v1/gateway/rpc", JSON.stringify({ device: "D", id: i, data: {} }), 0);
    const at: number[] = [];
    const s = new Sender(
      outbox,
      async () => {
        at.push(Date.now());
      },
      silentLogger(),
      { window: 10, gwMessages: "3:1" },
    );
    s.resume();
    await until(() => at.length === 6, "all sent", 5000);
    assert.ok(at[5]! - at[0]! >= 900, `6 messages at 3/s took ${at[5]! - at[0]!} ms`);
    assert.ok(s.stats.rateLimitedWaits > 0);
  });

  test("the in-flight window is never exceeded", async () => {
    for (let i = 0; i < 50; i++) outbox.enqueue("v1/gateway/rpc", JSON.stringify({ device: "D", id: i, data: {} }), 0);
    let open = 0;
    let max = 0;
    const s = new Sender(
      outbox,
      async () => {
        open++;
        max = Math.max(max, open);
        await new Promise((r) => setTimeout(r, 2));
        open--;
      },
      silentLogger(),
      { window: 5 },
    );
    s.resume();
    await until(() => outbox.pending === 0 && outbox.inFlight === 0, "drained");
    assert.ok(max <= 5, `max in flight ${max}`);
  });

  test("a message the server refuses for good (PUBACK 0x99) is dropped and counted, not retried forever", async () => {
    outbox.enqueue("v1/gateway/rpc", "{bad", 0);
    outbox.enqueue("v1/gateway/rpc", JSON.stringify({ device: "D", id: 1, data: {} }), 0);
    const ok: string[] = [];
    const s = new Sender(
      outbox,
      async (_t, p) => {
        if (p === "{bad") throw new PublishError("Publish error: Payload format invalid", 0x99);
        ok.push(p);
      },
      silentLogger(),
      { window: 1 },
    );
    s.resume();
    await until(() => outbox.pending === 0 && outbox.inFlight === 0, "drained");
    assert.equal(s.stats.rejected, 1);
    assert.equal(ok.length, 1);
  });

  // 0x97 means a rate breach when ThingsBoard then closes the connection
  // (AbstractGatewaySessionHandler.getAggregatePubAckCallback.onError), the device limit when it
  // does not (processFailure).
  test("a 0x97 followed by the close is a breach: the sender slows down instead of retrying at the same pace", async () => {
    outbox.enqueue("v1/gateway/telemetry", tel(1), 1);
    let calls = 0;
    const s = new Sender(
      outbox,
      async () => {
        calls++;
        throw new PublishError("quota", 0x97);
      },
      silentLogger(),
      { window: 1, gwTelemetryMessages: "100:1" },
    );
    s.resume();
    await until(() => calls === 1, "published");
    s.pause(); // the server closed the connection right after the PUBACK
    assert.equal(s.stats.rateLimitBreaches, 1);
    assert.equal(s.slowdown, 0.5);
    assert.equal(outbox.pending, 1, "the message is kept");
  });

  test("a 0x97 with the connection kept is the device limit: the devices it had to look up are reported", async () => {
    outbox.enqueue("v1/gateway/telemetry", JSON.stringify({ New: [{ ts: 1, values: { a: 1 } }] }), 1);
    const refused: string[][] = [];
    const s = new Sender(
      outbox,
      async () => {
        throw new PublishError("quota", 0x97);
      },
      silentLogger(),
      { window: 1 },
    );
    s.onDeviceLimit = (d) => refused.push(d);
    s.resume();
    await until(() => refused.length === 1, "device limit verdict", 5000);
    assert.deepEqual(refused, [["New"]]);
    assert.equal(s.stats.rateLimitBreaches, 0);
    assert.equal(s.slowdown, 1);
    s.pause();
  });

  test("two publishes for one device refused with 0x97: the verdict names it once, and nothing is sent before it", async () => {
    const rejecters: Array<(e: Error) => void> = [];
    let calls = 0;
    let callsAtVerdict = -1;
    const refused: string[][] = [];
    const s = new Sender(
      outbox,
      () => {
        calls++;
        return new Promise<void>((_resolve, reject) => rejecters.push(reject));
      },
      silentLogger(),
      { window: 2 },
    );
    s.onDeviceLimit = (d) => {
      refused.push(d);
      callsAtVerdict = calls;
    };
    outbox.enqueue("v1/gateway/telemetry", JSON.stringify({ New: [{ ts: 1, values: { a: 1 } }] }), 1);
    s.resume();
    await until(() => calls === 1, "first publish");
    outbox.enqueue("v1/gateway/telemetry", JSON.stringify({ New: [{ ts: 2, values: { a: 2 } }] }), 1);
    s.kick();
    await until(() => calls === 2, "second publish in flight");
    for (const reject of rejecters.splice(0)) reject(new PublishError("quota", 0x97));
    await until(() => refused.length === 1, "device limit verdict", 5000);
    assert.deepEqual(refused, [["New"]]);
    assert.equal(callsAtVerdict, 2, "no publish while it was unknown whether the connection stays");
    s.pause();
  });

  test("configured limits count messages as ThingsBoard does: one per device entry", () => {
    const s = new Sender(outbox, async () => {}, silentLogger(), { window: 1, configMessages: "10:1" });
    // 80 % of the bucket: at most 8 device entries per publish.
    assert.equal(s.maxEntries, 8);
  });

  test("on MQTT 3.1.1 a close right after a PUBACK, under limits, is taken as a breach (the refusal looked like success)", async () => {
    outbox.enqueue("v1/gateway/telemetry", tel(1), 1);
    const s = new Sender(outbox, async () => {}, silentLogger(), { window: 1, gwTelemetryMessages: "100:1" });
    s.noReasonCodes = true;
    s.resume();
    await until(() => s.stats.acked === 1, "acked");
    s.pause();
    assert.equal(s.stats.rateLimitBreaches, 1);
    assert.equal(s.slowdown, 0.5);
  });
});
