// The one-way layers of docs/architecture.md, checked on every import of every source file, so the
// document stays true: drivers/ know nothing of the server, the server nothing of scripts/ (the
// Pi's bundle must not carry the emulator), the emulator shares no code with the bridge it tests,
// and the page takes only types from the server.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("..", import.meta.url));

interface Import {
  from: string;
  /** Repo-relative path of the imported file, or the package name for a bare specifier. */
  to: string;
  typeOnly: boolean;
  line: number;
}

function sources(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(join(ROOT, dir))) {
    const rel = join(dir, name);
    if (name === "node_modules" || name === "dist") continue;
    if (statSync(join(ROOT, rel)).isDirectory()) out.push(...sources(rel));
    else if (/\.(ts|mts|mjs|js)$/.test(name) && !name.endsWith(".d.ts")) out.push(rel);
  }
  return out;
}

// Static imports and re-exports (`import ... from "x"`, `export ... from "x"`, `import "x"`) and
// dynamic ones with a literal specifier (`import("x")`).
const IMPORT =
  /^\s*(import|export)\s+(type\s+)?(?:[^"';]*?\sfrom\s+)?["']([^"']+)["']|\bimport\(\s*["']([^"']+)["']\s*\)/gm;

function importsOf(file: string): Import[] {
  const text = readFileSync(join(ROOT, file), "utf8");
  const out: Import[] = [];
  for (const m of text.matchAll(IMPORT)) {
    const spec = m[3] ?? m[4];
    if (!spec) continue;
    const line = text.slice(0, m.index).split("\n").length;
    const to = spec.startsWith(".") ? relative(ROOT, resolve(dirname(join(ROOT, file)), spec)) : spec;
    out.push({ from: file, to, typeOnly: m[2] !== undefined, line });
  }
  return out;
}

const ALL = ["server", "drivers", "scripts", "web/src"].flatMap(sources).flatMap(importsOf);

function violations(fromDir: string, bad: (i: Import) => boolean): string[] {
  return ALL.filter((i) => i.from.startsWith(`${fromDir}/`) && bad(i)).map(
    (i) => `${i.from}:${i.line} imports ${i.to}`,
  );
}

const under = (dir: string) => (i: Import) => i.to.startsWith(`${dir}/`);

test("the import scan sees the imports it checks", () => {
  // Guards the regex: a scan that found nothing would pass every rule below.
  assert.ok(ALL.length > 300, `only ${ALL.length} imports found`);
  assert.ok(ALL.some((i) => i.from === "server/controller.ts" && i.to === "server/devices/runtime.ts"));
  assert.ok(ALL.some((i) => i.from.startsWith("web/src/") && i.typeOnly && i.to.startsWith("server/")));
});

test("drivers/ import nothing from server/, scripts/ or web/", () => {
  assert.deepEqual(
    violations("drivers", (i) => under("server")(i) || under("scripts")(i) || under("web")(i)),
    [],
  );
});

test("server/ imports nothing from scripts/ or web/ (the Pi's bundle carries no emulator)", () => {
  assert.deepEqual(
    violations("server", (i) => under("scripts")(i) || under("web")(i)),
    [],
  );
});

test("the emulator imports nothing from server/ or drivers/: it shares no code with the bridge", () => {
  assert.deepEqual(
    violations("scripts/emulator", (i) => under("server")(i) || under("drivers")(i)),
    [],
  );
});

test("the page takes only types from the server", () => {
  assert.deepEqual(
    violations("web/src", (i) => (under("server")(i) && !i.typeOnly) || under("scripts")(i) || under("drivers")(i)),
    [],
  );
});

test("only drivers/ load onoff and i2c-bus", () => {
  const hardwarePackage = (i: Import) => i.to === "onoff" || i.to === "i2c-bus";
  assert.deepEqual(
    ["server", "scripts", "web/src"].flatMap((d) => violations(d, hardwarePackage)),
    [],
  );
});

test("the domain (devices, bus events) uses its own reading types, not the gateway's wire types", () => {
  const domain = ALL.filter(
    (i) => i.from.startsWith("server/devices/") || i.from === "server/events.ts" || i.from === "server/eventBus.ts",
  );
  assert.deepEqual(
    domain.filter(under("server/gateway")).map((i) => `${i.from}:${i.line} imports ${i.to}`),
    [],
  );
});
