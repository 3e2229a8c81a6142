// The bits of gpiolib-sysfs behaviour that plain files in a fake /sys/class/gpio lack, emulated
// by wrapping fs.writeFileSync (onoff require()s the same fs object, and busy-waits synchronously
// for exported files, so nothing asynchronous could stand in):
// - writing N to `export` creates gpioN/ before write() returns, `unexport` removes it
//   (export_store/unexport_store), with EINVAL for numbers no chip owns (what users hit on kernel
//   6.6 with plain BCM numbers, fivdi/onoff#200) and EBUSY for one already exported;
// - `direction` accepts "high"/"low"/"out" as gpiod_direction_output_raw(1/0/0): the line's RAW
//   level, whatever active_low says (direction_store);
// - `active_low` flips what `value` reads, the line's level staying as it was (active_low_store).
// `value` holds the logical value, as reads of the real attribute return it.
// Not emulated: edge interrupts. onoff watches `value` with epoll(EPOLLPRI), which only sysfs
// attributes support; on a plain file epoll_ctl fails (EPERM).
import fs from "node:fs";
import path from "node:path";
import type { FakeChip } from "./fakeSysfs.ts";

export interface KernelEvent {
  op: "export" | "unexport";
  n: number;
  /** gpioN attribute files at unexport time. */
  files?: Record<string, string>;
}

function errno(code: string, syscall: string): NodeJS.ErrnoException {
  const err: NodeJS.ErrnoException = new Error(`${code}: emulated kernel refused, ${syscall}`);
  err.code = code;
  err.syscall = syscall;
  return err;
}

export function snapshotGpio(root: string, n: number): Record<string, string> {
  const dir = path.join(root, `gpio${n}`);
  const out: Record<string, string> = {};
  for (const name of fs.readdirSync(dir).sort()) out[name] = fs.readFileSync(path.join(dir, name), "utf8").trim();
  return out;
}

const bit = (s: string) => (s.trim() === "1" ? 1 : 0);

/**
 * The fake kernel for a gpio class tree at `root` holding `chips`; returns the export log and the
 * outside world's view of the lines. With `lineState: false` direction and active_low keep the
 * text written to them (a test that checks what onoff wrote reads it back).
 */
export function installFakeGpioKernel(
  root: string,
  chips: readonly FakeChip[],
  o: { lineState: boolean } = { lineState: true },
): { events: KernelEvent[]; level(n: number): 0 | 1; setLevel(n: number, level: 0 | 1): void } {
  const events: KernelEvent[] = [];
  const original = fs.writeFileSync;
  const read = (n: number, attr: string) => fs.readFileSync(path.join(root, `gpio${n}`, attr), "utf8");
  const put = (n: number, attr: string, v: string) => original(path.join(root, `gpio${n}`, attr), `${v}\n`);

  function kernelWrite(file: string, data: unknown): boolean {
    const text = String(data).trim();
    if (file === `${root}/export` || file === `${root}/unexport`) {
      const n = Number(text);
      const dir = path.join(root, `gpio${n}`);
      if (file.endsWith("/export")) {
        if (!chips.some((c) => n >= c.base && n < c.base + c.ngpio)) throw errno("EINVAL", "write");
        if (fs.existsSync(dir)) throw errno("EBUSY", "write");
        fs.mkdirSync(dir);
        for (const [name, value] of Object.entries({ direction: "in", value: "0", active_low: "0", edge: "none" }))
          put(n, name, value);
        events.push({ op: "export", n });
      } else {
        if (!fs.existsSync(dir)) throw errno("EINVAL", "write");
        events.push({ op: "unexport", n, files: snapshotGpio(root, n) });
        fs.rmSync(dir, { recursive: true });
      }
      return true;
    }
    const m = /^gpio(\d+)\/(direction|active_low)$/.exec(path.relative(root, file));
    if (!m || !o.lineState) return false;
    const n = Number(m[1]);
    if (m[2] === "direction") {
      if (text === "in") {
        put(n, "direction", "in");
        return true;
      }
      if (text !== "high" && text !== "low" && text !== "out") throw errno("EINVAL", "write");
      put(n, "direction", "out");
      put(n, "value", String((text === "high" ? 1 : 0) ^ bit(read(n, "active_low"))));
      return true;
    }
    const was = bit(read(n, "active_low"));
    const now = bit(text);
    put(n, "active_low", String(now));
    if (was !== now) put(n, "value", String(bit(read(n, "value")) ^ 1));
    return true;
  }

  const patched = (...args: Parameters<typeof fs.writeFileSync>): void => {
    const [file, data] = args;
    if (typeof file === "string" && kernelWrite(file, data)) return;
    original(...args);
  };
  Object.defineProperty(fs, "writeFileSync", { value: patched, writable: true, configurable: true });
  return {
    events,
    /** The line's electrical level. */
    level: (n) => (bit(read(n, "value")) ^ bit(read(n, "active_low"))) as 0 | 1,
    /** Drives an input line from outside, as a button would. */
    setLevel: (n, level) => put(n, "value", String(level ^ bit(read(n, "active_low")))),
  };
}
