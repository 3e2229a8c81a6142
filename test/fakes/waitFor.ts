import type { EventBus } from "../../server/eventBus.ts";
import type { AppEvents } from "../../server/events.ts";
// Bounded waits for tests: every wait has a deadline and says what it was waiting for.

/** Resolve when `check` returns a truthy value; re-checked on each `poke` and every `everyMs`. */
export async function until<T>(
  check: () => T | Promise<T>,
  what: string,
  timeoutMs = 5000,
  everyMs = 10,
): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await check();
      if (v) return v as NonNullable<T>;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline)
      throw new Error(
        `timed out after ${timeoutMs} ms waiting for ${what}${last ? ` (last error: ${(last as Error).message})` : ""}`,
      );
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** The first event `name` on `emitter` whose args satisfy `match`, within timeoutMs. */
export function nextEvent<A extends unknown[]>(
  emitter: { on(e: string, l: (...a: A) => void): unknown; off(e: string, l: (...a: A) => void): unknown },
  name: string,
  match: (...a: A) => boolean = () => true,
  timeoutMs = 5000,
): Promise<A> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => {
      emitter.off(name, l);
      reject(new Error(`timed out after ${timeoutMs} ms waiting for event ${name}`));
    }, timeoutMs);
    const l = (...a: A) => {
      if (!match(...a)) return;
      clearTimeout(t);
      emitter.off(name, l);
      resolve(a);
    };
    emitter.on(name, l);
  });
}

/** The first bus event `name` whose args satisfy `match`, within timeoutMs. */
export function nextBusEvent<K extends keyof AppEvents>(
  bus: EventBus,
  name: K,
  match: (...a: AppEvents[K]) => boolean = () => true,
  timeoutMs = 5000,
): Promise<AppEvents[K]> {
  const owner = {};
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => {
      bus.removeListeners(owner);
      reject(new Error(`timed out after ${timeoutMs} ms waiting for bus event ${String(name)}`));
    }, timeoutMs);
    bus.on(owner, name, (...a: AppEvents[K]) => {
      if (!match(...a)) return;
      clearTimeout(t);
      bus.removeListeners(owner);
      resolve(a);
    });
  });
}
