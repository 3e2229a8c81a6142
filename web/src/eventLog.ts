// The event log: newest first, at most 200 entries, duplicates (same entry in a snapshot and a
// delta around a reconnect) shown once.
import type { EventLogEntry } from "../../server/events.ts";
import { byTestId, el } from "./dom.ts";
import { clock } from "./format.ts";

export const MAX_EVENTS = 200;

function keyOf(e: EventLogEntry): string {
  return `${e.ts}|${e.kind}|${e.device ?? ""}|${e.text}`;
}

export class EventLogView {
  #list: HTMLOListElement;
  #keys: string[] = [];

  constructor() {
    this.#list = byTestId<HTMLOListElement>("event-log");
  }

  reset(entries: EventLogEntry[]): void {
    this.#list.replaceChildren();
    this.#keys = [];
    this.add([...entries].sort((a, b) => a.ts - b.ts));
  }

  /** Entries oldest first; each goes on top. */
  add(entries: EventLogEntry[]): void {
    for (const e of entries) {
      const key = keyOf(e);
      if (this.#keys.includes(key)) continue;
      this.#keys.unshift(key);
      const failed = e.ok === false || e.kind === "error";
      const item = el(
        "li",
        { "data-kind": e.kind, "data-failed": failed },
        el("time", { datetime: new Date(e.ts).toISOString(), text: clock(e.ts) }),
        el("span", { class: "kind", text: e.ok === false ? `${e.kind} failed` : e.kind }),
        e.device ? el("span", { class: "dev", text: e.device }) : null,
        el("span", { class: "text", text: e.text }),
      );
      this.#list.prepend(item);
    }
    while (this.#keys.length > MAX_EVENTS) {
      this.#keys.pop();
      this.#list.lastElementChild?.remove();
    }
  }
}
