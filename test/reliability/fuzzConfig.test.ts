// Fault test 6b, fuzzing the config loader: there is no config.example.yaml, so a valid config
// (the harness config with a GPIO device and a sensor) is mutated thousands of times, both as a
// value (swap a field for a hostile value, delete or add keys) and as YAML text (flip, cut, insert
// bytes, anchors and aliases). loadConfigText must never throw: it answers ok with a config, or
// a non-empty list of error strings that name where the problem is.
import { test } from "node:test";
import assert from "node:assert/strict";
import { stringify } from "yaml";
import { loadConfigText } from "../../server/config/load.ts";
import { CHILD_DEVICES, rawConfig, summary } from "../fakes/appHarness.ts";
import { Fuzz, fuzzSeed } from "./fuzzGen.ts";

const ROUNDS = 4000;
const SEED = fuzzSeed();

/** Every [object, key] slot in a JSON-like tree. */
function slots(v: unknown, out: Array<[Record<string, unknown> | unknown[], string | number]> = []): typeof out {
  if (Array.isArray(v)) {
    v.forEach((x, i) => {
      out.push([v, i]);
      slots(x, out);
    });
  } else if (v && typeof v === "object") {
    for (const [k, x] of Object.entries(v)) {
      out.push([v as Record<string, unknown>, k]);
      slots(x, out);
    }
  }
  return out;
}

function mutateValue(f: Fuzz, base: Record<string, unknown>): string {
  const cfg = structuredClone(base);
  for (let n = f.int(1, 4); n > 0; n--) {
    const all = slots(cfg);
    const [obj, key] = f.pick(all);
    const r = f.int(0, 3);
    if (r === 0 && !Array.isArray(obj)) delete obj[key as string];
    else if (r === 1 && !Array.isArray(obj))
      Object.defineProperty(obj, f.pick(Fuzz.KEYS), {
        value: f.value(),
        enumerable: true,
        configurable: true,
        writable: true,
      });
    else (obj as Record<string | number, unknown>)[key] = f.value();
  }
  return stringify(cfg);
}

function mutateText(f: Fuzz, text: string): string {
  let t = text;
  for (let n = f.int(1, 6); n > 0; n--) {
    const at = f.int(0, t.length);
    switch (f.int(0, 5)) {
      case 0:
        t = t.slice(0, at) + t.slice(at + f.int(1, 20));
        break;
      case 1:
        t = t.slice(0, at) + String.fromCharCode(f.int(0, 0xffff)) + t.slice(at + 1);
        break;
      case 2:
        t =
          t.slice(0, at) +
          f.pick([
            "&a ",
            "*a",
            "!!binary ",
            "<<: *a\n",
            ": ",
            "- ",
            "\t",
            "\n  ",
            "{",
            "[",
            "'",
            '"',
            "#",
            "%YAML 1.1\n",
            "~",
            "0x1F",
            "1e999",
            ".nan",
            "!!js/function x",
          ]) +
          t.slice(at);
        break;
      case 3:
        t = t.slice(0, at);
        break;
      case 4:
        t = `a: &a [${"*a,".repeat(f.int(1, 50))}]\n` + t;
        break; // alias bombs
      default:
        t = t + t.slice(0, at);
    }
  }
  return t;
}

test(`${ROUNDS} mutated configs never throw and always answer (seed ${SEED})`, { timeout: 60_000 }, () => {
  const f = new Fuzz(SEED);
  const base = rawConfig(1883, "/tmp/x", { devices: CHILD_DEVICES });
  const baseText = stringify(base);
  assert.equal(loadConfigText(baseText).ok, true, "the base config is valid");
  let ok = 0;
  let rejected = 0;
  const started = Date.now();
  for (let i = 0; i < ROUNDS; i++) {
    const text = i % 2 === 0 ? mutateValue(f, base) : mutateText(f, baseText);
    let r;
    try {
      r = loadConfigText(
        text,
        f.chance(0.2)
          ? {
              TB_PORT: f.string().slice(0, 200),
              HTTP_PORT: f.pick(["x", "-1", "99999", " 80 ", "0x50"]),
              HARDWARE: f.string().slice(0, 200),
              DATA_DIR: f.string().slice(0, 200),
            }
          : {},
      );
    } catch (err) {
      assert.fail(`round ${i} threw ${(err as Error).stack}\n--- input ---\n${text.slice(0, 2000)}`);
    }
    if (r.ok) {
      ok++;
      assert.equal(typeof r.config.thingsboard.port, "number");
    } else {
      rejected++;
      assert.ok(
        r.errors.length > 0 &&
          r.errors.every((e) => typeof e === "string" && e.length > 0 && e.length < text.length + 1000),
        `round ${i}: errors are non-empty strings: ${JSON.stringify(r.errors).slice(0, 500)}`,
      );
    }
  }
  const ms = Date.now() - started;
  summary(
    `fuzz config seed=${SEED}`,
    { produced: ROUNDS, delivered: ok + rejected, lost: ROUNDS - ok - rejected, duplicates: 0 },
    `accepted=${ok} rejected_with_errors=${rejected} ms=${ms}`,
  );
  assert.ok(rejected > ROUNDS / 4, "most mutations are rejected");
  assert.equal(({} as Record<string, unknown>)["polluted"], undefined, "Object.prototype not polluted");
});
