// Typed in-process event bus: the only coupling between features.
// Listeners are keyed by owner object identity (not class name, which minifiers and
// multiple instances of one class would break), and each listener runs in its own
// try/catch so one faulty feature never breaks the emitter or the other listeners.
import type { Logger } from "./util/logger.ts";
import type { AppEvents } from "./events.ts";

type Handler<A extends unknown[]> = (...args: A) => void;

export class EventBus<E extends { [K in keyof E]: unknown[] } = AppEvents> {
  #listeners = new Map<keyof E, Map<object, Handler<never[]>[]>>();
  #log: Logger | undefined;
  #errors = 0;

  constructor(log?: Logger) {
    this.#log = log;
  }

  get errorCount(): number {
    return this.#errors;
  }

  on<K extends keyof E>(owner: object, event: K, handler: Handler<E[K]>): void {
    let byOwner = this.#listeners.get(event);
    if (!byOwner) {
      byOwner = new Map();
      this.#listeners.set(event, byOwner);
    }
    const list = byOwner.get(owner) ?? [];
    list.push(handler as unknown as Handler<never[]>);
    byOwner.set(owner, list);
  }

  emit<K extends keyof E>(event: K, ...args: E[K]): void {
    const byOwner = this.#listeners.get(event);
    if (!byOwner) return;
    for (const [owner, handlers] of byOwner) {
      for (const h of handlers) {
        try {
          (h as unknown as Handler<E[K]>)(...args);
        } catch (err) {
          this.#errors++;
          const name = (owner as { constructor?: { name?: string } }).constructor?.name ?? "listener";
          this.#log?.error(
            `event bus listener ${name}/${String(event)} failed: ${(err as Error)?.message ?? String(err)}`,
          );
        }
      }
    }
  }

  removeListeners(owner: object): void {
    for (const byOwner of this.#listeners.values()) byOwner.delete(owner);
  }

  listenerCount<K extends keyof E>(event: K): number {
    let n = 0;
    for (const hs of this.#listeners.get(event)?.values() ?? []) n += hs.length;
    return n;
  }
}
