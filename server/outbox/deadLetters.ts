// Messages ThingsBoard keeps refusing (issue 12): one it answers by closing the connection (a
// topic the broker refuses, a payload it cannot take) was retried forever and blocked everything
// queued behind it. After a few attempts alone (gateway/deliveryAttempts.ts) the sender moves it
// here: out of the queue, kept on disk with its attempt count and the reason, counted on the
// dashboard and in a gateway attribute, and retrievable (gateway RPC dead_letters). A small
// SQLite file of its own: written rarely, never in the hot path, and a problem with it never
// touches the outbox.
import fs from "node:fs";
import path from "node:path";
import Database from "better-sqlite3";
import type { Logger } from "../util/logger.ts";
import { describeError } from "./diskErrors.ts";

export interface DeadLetter {
  id: number;
  /** When the message was first queued, and when it was set aside (ms). */
  ts: number;
  deadAt: number;
  topic: string;
  payload: string;
  points: number;
  attempts: number;
  reason: string;
}

/** Kept at most; the oldest go first (counted in `dropped`). */
const MAX_DEAD_LETTERS = 1000;

export class DeadLetterStore {
  readonly #db: Database.Database | null;
  readonly #log: Logger;
  #memory: DeadLetter[] = [];
  #nextId = 1;
  dropped = 0;

  private constructor(db: Database.Database | null, log: Logger) {
    this.#db = db;
    this.#log = log;
  }

  static open(dir: string, log: Logger): DeadLetterStore {
    const file = path.join(dir, "deadletters.sqlite");
    try {
      fs.mkdirSync(dir, { recursive: true });
      const db = new Database(file);
      db.pragma("journal_mode = WAL");
      db.exec(
        "CREATE TABLE IF NOT EXISTS dead_letters (id INTEGER PRIMARY KEY, ts INTEGER NOT NULL, deadAt INTEGER NOT NULL, topic TEXT NOT NULL, payload TEXT NOT NULL, points INTEGER NOT NULL, attempts INTEGER NOT NULL, reason TEXT NOT NULL)",
      );
      return new DeadLetterStore(db, log);
    } catch (err) {
      // The dead letters then live in memory only: they are still counted and retrievable until a restart.
      log.error(`cannot open ${file} (${describeError(err)}); dead letters are kept in memory only`);
      return new DeadLetterStore(null, log);
    }
  }

  get count(): number {
    if (!this.#db) return this.#memory.length;
    try {
      return (this.#db.prepare("SELECT count(*) AS n FROM dead_letters").get() as { n: number }).n;
    } catch {
      return 0;
    }
  }

  add(d: Omit<DeadLetter, "id">): void {
    if (this.#db) {
      try {
        this.#db.transaction(() => {
          this.#db!.prepare(
            "INSERT INTO dead_letters (ts, deadAt, topic, payload, points, attempts, reason) VALUES (?, ?, ?, ?, ?, ?, ?)",
          ).run(d.ts, d.deadAt, d.topic, d.payload, d.points, d.attempts, d.reason);
          const over = this.count - MAX_DEAD_LETTERS;
          if (over > 0) {
            this.#db!.prepare(
              "DELETE FROM dead_letters WHERE id IN (SELECT id FROM dead_letters ORDER BY id LIMIT ?)",
            ).run(over);
            this.dropped += over;
          }
        })();
        return;
      } catch (err) {
        this.#log.error(`could not save a dead letter (${describeError(err)}); keeping it in memory`);
      }
    }
    this.#memory.push({ ...d, id: this.#nextId++ });
    if (this.#memory.length > MAX_DEAD_LETTERS) {
      this.#memory.shift();
      this.dropped++;
    }
  }

  /** The newest first. */
  list(limit: number): DeadLetter[] {
    const n = Math.max(1, Math.min(limit, MAX_DEAD_LETTERS));
    const mem = [...this.#memory].reverse();
    if (!this.#db) return mem.slice(0, n);
    try {
      return [
        ...(this.#db
          .prepare(
            "SELECT id, ts, deadAt, topic, payload, points, attempts, reason FROM dead_letters ORDER BY id DESC LIMIT ?",
          )
          .all(n) as DeadLetter[]),
        ...mem,
      ].slice(0, n);
    } catch {
      return mem.slice(0, n);
    }
  }

  /** Removes and returns every dead letter, oldest first (to queue them again). */
  takeAll(): DeadLetter[] {
    const mem = this.#memory;
    this.#memory = [];
    if (!this.#db) return mem;
    try {
      const rows = this.#db
        .prepare("SELECT id, ts, deadAt, topic, payload, points, attempts, reason FROM dead_letters ORDER BY id")
        .all() as DeadLetter[];
      this.#db.prepare("DELETE FROM dead_letters").run();
      return [...rows, ...mem];
    } catch (err) {
      this.#log.error(`could not read the dead letters (${describeError(err)})`);
      return mem;
    }
  }

  close(): void {
    if (this.#db?.open) this.#db.close();
  }
}
