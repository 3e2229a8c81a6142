// Two gateways with the same access token: ThingsBoard keeps one session per device
// (actors.max_concurrent_sessions_per_device = 1) and closes the OLDER one when a newer one
// connects (reference §1.3: SESSION_TAKEN_OVER 0x8E on MQTT 5, a bare TCP close on 3.1.1). Each
// gateway reconnects and throws the other out, so both flap every few seconds and each only sees
// "connection lost". This notices the pattern, a session closed right after it opened, several
// times in a row, and names the likely cause (issue 13).

/** A session that ends sooner than this after it opened counts as "closed right after it opened" (= reconnectSchedule's STABLE_MS). */
export const SHORT_SESSION_MS = 10_000;
/**
 * How many such sessions in a row make a pattern worth a warning. More than a poison message can
 * cause: the sender sets one aside as a dead letter after it was sent once as part of a batch and
 * MAX_ATTEMPTS (3) times alone (deliveryAttempts.ts), i.e. after at most 4 closed sessions.
 */
export const SHORT_SESSIONS_BEFORE_WARNING = 5;

const SESSION_TAKEN_OVER = 0x8e;
const REASON_NAMES: Record<number, string> = {
  0x81: "MALFORMED_PACKET",
  0x83: "IMPLEMENTATION_SPECIFIC_ERROR",
  0x8b: "SERVER_SHUTTING_DOWN",
  0x8e: "SESSION_TAKEN_OVER",
  0x97: "QUOTA_EXCEEDED",
  0x98: "ADMINISTRATIVE_ACTION",
  0x99: "PAYLOAD_FORMAT_INVALID",
};

export function disconnectReasonName(code: number): string {
  return `${REASON_NAMES[code] ?? "reason"} 0x${code.toString(16).padStart(2, "0")}`;
}

export class SessionFlapDetector {
  readonly #now: () => number;
  #openedAt: number | null = null;
  #shortInARow = 0;
  #warned = false;

  constructor(now: () => number = Date.now) {
    this.#now = now;
  }

  /** How many sessions in a row ended right after they opened. */
  get shortInARow(): number {
    return this.#shortInARow;
  }

  opened(): void {
    this.#openedAt = this.#now();
  }

  /** Whether the pattern was seen and has not ended (a session that lasted); the status then carries the hint. */
  get active(): boolean {
    return this.#warned;
  }

  /**
   * A session that was up has ended (with the server's DISCONNECT reason code when MQTT 5 sent one).
   * Returns the warning to log, once per run of short sessions; null otherwise.
   */
  closed(server: string, reasonCode?: number): string | null {
    const openedAt = this.#openedAt;
    this.#openedAt = null;
    if (openedAt === null) return null;
    const short = this.#now() - openedAt < SHORT_SESSION_MS;
    // ThingsBoard says it outright on MQTT 5: one takeover names the cause, however long the session was.
    const takenOver = reasonCode === SESSION_TAKEN_OVER;
    if (!short && !takenOver) {
      this.#shortInARow = 0;
      this.#warned = false;
      return null;
    }
    if (short) this.#shortInARow++;
    if (this.#warned || (!takenOver && this.#shortInARow < SHORT_SESSIONS_BEFORE_WARNING)) return null;
    this.#warned = true;
    return this.hint(server, reasonCode);
  }

  /** The sentence for the status and the log while the pattern lasts. */
  hint(server: string, reasonCode?: number): string {
    const advice =
      "a second gateway with this access token, or this one running twice (each takes the session over when it reconnects). Give each gateway its own device and access token.";
    if (reasonCode === SESSION_TAKEN_OVER)
      return `ThingsBoard at ${server} closed the session with DISCONNECT ${disconnectReasonName(reasonCode)}: another client is connected with the same credentials: ${advice}`;
    const times = this.#shortInARow < 2 ? "" : ` (${this.#shortInARow} times in a row)`;
    if (reasonCode !== undefined)
      return `ThingsBoard at ${server} closes the session right after it opens${times}, with DISCONNECT ${disconnectReasonName(reasonCode)}.`;
    return `ThingsBoard at ${server} closes the session right after it opens${times}: another client may be using the same credentials: ${advice}`;
  }
}
