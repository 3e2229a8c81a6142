// Loading: YAML file -> environment overrides -> schema validation. Every error is collected
// and reported with its path (e.g. "devices[2].pin: expected integer 0-27"); an invalid config
// never starts the appliance.
import { closeSync, fstatSync, openSync, readSync, statSync } from "node:fs";
import { parseDocument, type YAMLError } from "yaml";
import type { z } from "zod";
import { configSchema, isI2cSensorChip, type Config } from "./schema.ts";
import { headerErrors } from "./gpioHeader.ts";
import { isObject, preview } from "../util/json.ts";
import { checkSensorOptions, sensorAddresses } from "../../drivers/sensors/index.ts";
import { checkKernelSensorOptions } from "../../drivers/sensors/kernelSensors.ts";

/** `unreadable`: the file itself could not be read (missing, no permission), so there is nothing to validate. */
export type LoadResult =
  | { ok: true; config: Config; raw: Record<string, unknown> }
  | { ok: false; errors: string[]; unreadable?: true };

/** Environment variable -> config path, with how to parse the value. */
export const ENV_OVERRIDES: Record<string, { path: string[]; parse: "string" | "int" }> = {
  TB_HOST: { path: ["thingsboard", "host"], parse: "string" },
  TB_PORT: { path: ["thingsboard", "port"], parse: "int" },
  TB_ACCESS_TOKEN: { path: ["thingsboard", "accessToken"], parse: "string" },
  HARDWARE: { path: ["hardware"], parse: "string" },
  HTTP_PORT: { path: ["http", "port"], parse: "int" },
  DATA_DIR: { path: ["dataDir"], parse: "string" },
  DASHBOARD_PASSWORD: { path: ["dashboard", "password"], parse: "string" },
  LOG_LEVEL: { path: ["log", "level"], parse: "string" },
};

export function formatPath(path: readonly PropertyKey[]): string {
  let out = "";
  for (const p of path) {
    if (typeof p === "number") out += `[${p}]`;
    else out += out ? `.${String(p)}` : String(p);
  }
  return out || "(root)";
}

export function formatIssues(issues: readonly z.core.$ZodIssue[]): string[] {
  const out: string[] = [];
  for (const i of issues) {
    if (i.code === "invalid_union" && "errors" in i && Array.isArray(i.errors) && i.errors.length > 0) {
      // Report the branch that got furthest rather than "invalid input".
      const best = [...i.errors].sort((a, b) => a.length - b.length)[0] ?? [];
      out.push(...formatIssues(best.map((e) => ({ ...e, path: [...i.path, ...e.path] }))));
      continue;
    }
    if (i.code === "unrecognized_keys") {
      for (const k of i.keys) out.push(`${formatPath([...i.path, k])}: unknown setting`);
      continue;
    }
    out.push(`${formatPath(i.path)}: ${i.message}`);
  }
  return out;
}

export function applyEnv(raw: Record<string, unknown>, env: NodeJS.ProcessEnv): string[] {
  const errors: string[] = [];
  for (const [key, spec] of Object.entries(ENV_OVERRIDES)) {
    const v = env[key];
    if (v === undefined || v === "") continue;
    let value: unknown = v;
    if (spec.parse === "int") {
      if (!/^\d+$/.test(v.trim())) {
        errors.push(`${key} (${spec.path.join(".")}): expected an integer, got ${preview(v, 40)}`);
        continue;
      }
      value = Number(v.trim());
    }
    let node = raw;
    for (const seg of spec.path.slice(0, -1)) {
      if (!isObject(node[seg])) node[seg] = {};
      node = node[seg] as Record<string, unknown>;
    }
    node[spec.path[spec.path.length - 1] as string] = value;
  }
  return errors;
}

export function validateConfig(raw: unknown): LoadResult {
  const r = configSchema.safeParse(raw);
  if (!r.success) return { ok: false, errors: formatIssues(r.error.issues) };
  const errors = crossChecks(r.data);
  if (errors.length) return { ok: false, errors };
  return { ok: true, config: r.data, raw: isObject(raw) ? raw : {} };
}

/** Rules one field cannot express: unique ids, names and pins. */
function crossChecks(c: Config): string[] {
  const errors: string[] = [];
  const ids = new Map<string, number>();
  const names = new Map<string, number>();
  c.devices.forEach((d, i) => {
    if (ids.has(d.id)) errors.push(`devices[${i}].id: "${d.id}" is already used by devices[${ids.get(d.id)}]`);
    else ids.set(d.id, i);
    if (d.name) {
      if (names.has(d.name))
        errors.push(`devices[${i}].name: "${d.name}" is already used by devices[${names.get(d.name)}]`);
      else names.set(d.name, i);
    }
    if (d.kind === "sensor") {
      // Each driver owns its options; the config is checked against the same rules at load time.
      if (!isI2cSensorChip(d.chip)) {
        const optErr = checkKernelSensorOptions(d.chip, d.options);
        if (optErr) errors.push(`devices[${i}].options: ${optErr}`);
        if (d.address !== undefined)
          errors.push(
            `devices[${i}].address: a ${d.chip} is not on I2C; the kernel finds it (options.pin is the overlay's GPIO)`,
          );
        // AM2302/DHT11 datasheets: at most one measurement every 2 s (the kernel serves a cached one sooner).
        if ((d.chip === "dht22" || d.chip === "dht11") && d.intervalSec < 2)
          errors.push(`devices[${i}].intervalSec: a ${d.chip} measures at most every 2 s`);
        return;
      }
      const optErr = checkSensorOptions(d.chip, d.options);
      if (optErr) errors.push(`devices[${i}].options: ${optErr}`);
      const allowed = sensorAddresses(d.chip);
      if (d.address !== undefined && !allowed.includes(d.address)) {
        errors.push(
          `devices[${i}].address: a ${d.chip} answers only at ${allowed.map((a) => `0x${a.toString(16)}`).join(" or ")}`,
        );
      }
    }
  });
  // The same pin twice, or a GPIO use of a pin an I2C bus in use holds, named by BCM and physical pin (issue 14).
  errors.push(...headerErrors(c));
  const tb = c.thingsboard;
  if (tb.tls.enabled === false && (tb.tls.certFile || tb.tls.keyFile))
    errors.push("thingsboard.tls: certFile/keyFile given but tls.enabled is false");
  if (Boolean(tb.tls.certFile) !== Boolean(tb.tls.keyFile))
    errors.push("thingsboard.tls: certFile and keyFile go together");
  if (c.thingsboard.reconnectMinMs > c.thingsboard.reconnectMaxMs)
    errors.push("thingsboard.reconnectMinMs: must not exceed reconnectMaxMs");
  return errors;
}

export function loadConfigText(text: string, env: NodeJS.ProcessEnv = {}, source = "config"): LoadResult {
  if (text.length > MAX_CONFIG_BYTES) return { ok: false, errors: [tooLarge(source, Buffer.byteLength(text))] };
  // logLevel "error": the yaml package would print its own process warning (e.g. for a collection
  // used as a key, which it stringifies) to stderr; such a key is an unknown setting for the schema
  // anyway, reported with the others (issue 13: garbled warnings in the test output).
  const doc = parseDocument(text, { prettyErrors: true, uniqueKeys: true, logLevel: "error" });
  if (doc.errors.length) return { ok: false, errors: [yamlSyntaxError(doc.errors, text, source)] };
  let raw: unknown;
  try {
    // toJS throws, rather than reporting in doc.errors, on an alias without its anchor and on an alias bomb.
    raw = doc.toJS({ maxAliasCount: 100 }) ?? {};
  } catch (err) {
    return { ok: false, errors: [`${source}: YAML ${(err as Error).message.split("\n")[0]}`] };
  }
  if (!isObject(raw)) return { ok: false, errors: [`${source}: expected a mapping at the top level`] };
  // A section left with only comments ("unit:") is null in YAML; it means "all defaults".
  for (const [k, v] of Object.entries(raw)) if (v === null) delete raw[k];
  const envErrors = applyEnv(raw, env);
  const r = validateConfig(raw);
  if (envErrors.length) return { ok: false, errors: [...envErrors, ...(r.ok ? [] : r.errors)] };
  return r;
}

/**
 * One YAML syntax error, the first: the ones after it usually follow from it (an unclosed quote or a
 * bad indent makes the parser misread every later line). Location, message and the offending line,
 * instead of the parser's message that ends in a colon before a snippet (issue 13).
 */
function yamlSyntaxError(errors: readonly YAMLError[], text: string, source: string): string {
  const first = errors[0] as YAMLError;
  const message = first.message.split("\n")[0]?.replace(/ at line \d+, column \d+:?$/, "") ?? first.code;
  const lines = text.split(/\r?\n/);
  let pos: { line: number; col?: number } | undefined = first.linePos?.[0];
  // An unclosed quote is found at the end of the file; the line that opened it is the useful one.
  const quote = first.code === "MISSING_CHAR" ? /closing (["'])quote/.exec(message)?.[1] : undefined;
  if (quote && pos) {
    for (let i = Math.min(pos.line, lines.length) - 1; i >= 0; i--) {
      if (((lines[i] ?? "").split(quote).length - 1) % 2 === 1) {
        pos = { line: i + 1 };
        break;
      }
    }
  }
  const lineText = pos ? lines[pos.line - 1] : undefined;
  const where = !pos
    ? ""
    : lineText?.trim()
      ? `, line ${pos.line}${pos.col ? `, column ${pos.col}` : ""}`
      : ", at the end of the file";
  const more =
    errors.length > 1
      ? ` (fix this first: the ${errors.length - 1} other YAML error${errors.length > 2 ? "s" : ""} reported after it may follow from it)`
      : "";
  return `${source}${where}: YAML syntax: ${message}${lineText?.trim() ? `: ${JSON.stringify(lineText.trimEnd())}` : ""}${more}`;
}

/** A real config is a few KB; this is far above any, and far below what the YAML parser can
 *  take in a 128 MB heap (issue 12: a 65 MB file ended in a V8 out-of-memory error). */
export const MAX_CONFIG_BYTES = 1024 * 1024;

function tooLarge(source: string, bytes: number | null): string {
  return `${source} is too large (${bytes === null ? "more than 1 MiB" : `${bytes} bytes`}): a config file is at most ${MAX_CONFIG_BYTES / 1024} KiB. Is this the right file?`;
}

export function loadConfigFile(file: string, env: NodeJS.ProcessEnv = {}): LoadResult {
  let text: string;
  try {
    const read = readBounded(file, MAX_CONFIG_BYTES);
    if (read === null) return { ok: false, errors: [tooLarge(file, sizeOf(file))] };
    text = read;
  } catch (err) {
    return { ok: false, errors: [unreadableFile(file, err as NodeJS.ErrnoException)], unreadable: true };
  }
  return loadConfigText(text, env, file);
}

/** The file's text, or null if it is longer than `max` bytes (read no further than max+1: a FIFO
 *  or a /proc file has no honest size). */
function readBounded(file: string, max: number): string | null {
  const fd = openSync(file, "r");
  try {
    if (fstatSync(fd).isDirectory()) throw Object.assign(new Error("is a directory"), { code: "EISDIR" });
    const buf = Buffer.alloc(max + 1);
    let length = 0;
    for (;;) {
      const n = readSync(fd, buf, length, buf.length - length, null);
      if (n === 0) break;
      length += n;
      if (length > max) return null;
    }
    return buf.toString("utf8", 0, length);
  } finally {
    closeSync(fd);
  }
}

function sizeOf(file: string): number | null {
  try {
    const st = statSync(file);
    return st.isFile() ? st.size : null;
  } catch {
    return null;
  }
}

function unreadableFile(file: string, err: NodeJS.ErrnoException): string {
  switch (err.code ?? "") {
    case "ENOENT":
      return `The config file ${file} does not exist. Start from the example: cp config.example.yaml ${file} and edit it (or run without --config for the demo).`;
    case "EACCES":
    case "EPERM":
      return `Cannot read the config file ${file}: permission denied (it belongs to another user; on the Pi the service's config is read with sudo).`;
    case "EISDIR":
      return `${file} is a directory; --config needs a YAML file (see config.example.yaml).`;
    default:
      return `Cannot read the config file ${file}: ${err.code ?? err.message}.`;
  }
}
