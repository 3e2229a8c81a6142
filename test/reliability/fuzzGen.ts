// Seeded generators of malformed and hostile input for the fuzz tests: the same seed gives the
// same inputs, so a failure prints the seed and reproduces with FUZZ_SEED=<n>.

import { rng } from "../fakes/rng.ts";

export { rng };

export function fuzzSeed(): number {
  const env = Number(process.env.FUZZ_SEED);
  return Number.isInteger(env) ? env : Math.floor(Math.random() * 2 ** 31);
}

export class Fuzz {
  readonly r: () => number;
  constructor(seed: number) {
    this.r = rng(seed);
  }
  int(min: number, max: number): number {
    return min + Math.floor(this.r() * (max - min + 1));
  }
  pick<T>(xs: readonly T[]): T {
    return xs[Math.floor(this.r() * xs.length)] as T;
  }
  chance(p: number): boolean {
    return this.r() < p;
  }

  /** Keys that have broken JavaScript programs, and the ones our handlers look at. */
  static readonly KEYS = [
    "__proto__",
    "constructor",
    "prototype",
    "toString",
    "hasOwnProperty",
    "valueOf",
    "device",
    "data",
    "id",
    "method",
    "params",
    "pin",
    "enabled",
    "relay1",
    "relay2",
    "17",
    "gpio17",
    "shared",
    "client",
    "value",
    "values",
    "deleted",
    "logLevel",
    "statsPeriodSec",
    "",
    " ",
    "\u0000",
    "ключ",
    "🔥",
  ];

  string(): string {
    switch (this.int(0, 7)) {
      case 0:
        return "";
      case 1:
        return "x".repeat(this.int(1000, 70_000));
      case 2:
        return "\ud800\udfff\ud800"; // a lone surrogate
      case 3:
        return "\u0000\u0001\u001f\u007f";
      case 4:
        return "🔥ünïcödé\u202e\u200b";
      case 5:
        return this.pick(Fuzz.KEYS);
      case 6:
        return String(this.r());
      default:
        return Array.from({ length: this.int(1, 20) }, () => String.fromCharCode(this.int(0, 0xffff))).join("");
    }
  }

  value(depth = 0): unknown {
    const k = this.int(0, depth > 4 ? 5 : 8);
    switch (k) {
      case 0:
        return null;
      case 1:
        return this.chance(0.5);
      case 2:
        return this.pick([0, -1, 1, 17, 27, 22, 1e308, -1e308, 2 ** 53 + 1, 0.5, -0, 4294967296]);
      case 3:
        return this.string();
      case 4:
        return this.int(-5, 40);
      case 5:
        return this.pick(["true", "false", "on", "off", 1, 0]);
      case 6:
        return Array.from({ length: this.int(0, 5) }, () => this.value(depth + 1));
      default: {
        const o: Record<string, unknown> = {};
        for (let i = this.int(0, 5); i > 0; i--)
          Object.defineProperty(o, this.chance(0.7) ? this.pick(Fuzz.KEYS) : this.string().slice(0, 40), {
            value: this.value(depth + 1),
            enumerable: true,
            configurable: true,
            writable: true,
          });
        return o;
      }
    }
  }

  /** JSON text that carries an own "__proto__" key (JSON.stringify of a literal cannot). */
  protoJson(inner: string): string {
    return this.pick([
      `{"__proto__":{"polluted":"yes","toString":1},${inner}}`,
      `{${inner},"constructor":{"prototype":{"polluted":"yes"}}}`,
      `{"device":{"__proto__":{"polluted":"yes"}},"data":{"__proto__":{"polluted":"yes"},"id":1,"method":"toggle_gpio","params":{"__proto__":{"pin":17}}}}`,
      `{"data":{"relay1":true,"__proto__":{"relay2":true,"polluted":"yes"}},"device":{"toString":"x"}}`,
    ]);
  }

  /** A payload for `topic`: garbage bytes, broken JSON, deep nesting, huge, wrong types, hostile keys, or near-valid. */
  payload(device: string): Buffer | string {
    switch (this.int(0, 11)) {
      case 0:
        return Buffer.from(Array.from({ length: this.int(0, 512) }, () => this.int(0, 255)));
      case 1:
        return JSON.stringify(this.value()).slice(0, this.int(0, 40)); // truncated
      case 2:
        return (
          "[".repeat(this.chance(0.9) ? this.int(10, 5000) : this.int(100_000, 200_000)) +
          (this.chance(0.5) ? "]".repeat(50) : "")
        );
      case 3:
        return `{"a":${'{"a":'.repeat(this.chance(0.9) ? this.int(10, 2000) : this.int(20_000, 50_000))}1${"}".repeat(10)}`;
      case 4:
        // Near 1 MB, but rarely: the point is one huge message, not 100 MB of them.
        if (this.chance(0.9))
          return JSON.stringify({
            device,
            data: { id: this.int(1, 9), method: "getGpioStatus", params: { pad: "y".repeat(this.int(1000, 20_000)) } },
          });
        return JSON.stringify({
          device,
          data: {
            id: this.int(1, 9),
            method: "toggle_gpio",
            params: { pin: 17, pad: "y".repeat(this.int(500_000, 1_000_000)) },
          },
        });
      case 5:
        return this.protoJson(`"device":${JSON.stringify(device)}`);
      case 6:
        return JSON.stringify(this.value());
      case 7:
        return JSON.stringify({ device: this.chance(0.5) ? device : this.value(), data: this.value() });
      case 8:
        return JSON.stringify({
          device,
          data: {
            id: this.value(),
            method: this.pick([
              "toggle_gpio",
              "setGpioStatus",
              "getGpioStatus",
              "read_now",
              "",
              "__proto__",
              "constructor",
              "hasOwnProperty",
            ]),
            params: this.value(),
          },
        });
      case 9:
        return JSON.stringify({
          device,
          data: { relay1: this.value(), relay2: this.value(), [this.pick(Fuzz.KEYS)]: this.value() },
        });
      case 10:
        return JSON.stringify({
          id: this.value(),
          device: this.value(),
          value: this.value(),
          values: this.value(),
          client: this.value(),
          shared: this.value(),
        });
      default:
        return JSON.stringify({
          method: this.pick([
            "gateway_ping",
            "gateway_devices",
            "gateway_stats",
            "gateway_version",
            "gateway_device_deleted",
            "gateway_device_renamed",
            "",
            "__proto__",
            "toString",
            "nope",
          ]),
          params: this.value(),
        });
    }
  }
}
