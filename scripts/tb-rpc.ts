// Send a server-side RPC through ThingsBoard's REST API (or the emulator's, which serves the same
// paths): log in, look the device up by name, POST the RPC, print the device's reply.
// The exit code tells a script what happened (issue 13): 0 the device answered without an error,
// 1 the device answered an error reply, 2 bad usage, 3 the RPC never reached the device
// (ThingsBoard unreachable, login refused, unknown device, device offline / timed out).
import { parseArgs } from "node:util";
import { describeFetchError } from "./lib/fetchError.ts";

const USAGE = `Usage: npm run rpc -- [options] "<device name>" <method> ['<params JSON>']

Sends an RPC to a device through ThingsBoard's REST API and prints the device's reply.

Options:
  --url URL          ThingsBoard (or the emulator) base URL (default http://127.0.0.1:9090)
  --user USER        tenant user to log in as (default tenant@thingsboard.org)
  --password PASS    that user's password (default tenant)
  --oneway           one-way RPC: do not wait for the device's reply
  --timeout MS       how long ThingsBoard waits for the device, in ms (default 10000)
  -h, --help         print this help

Exit codes: 0 the device answered, 1 the device answered an error, 2 bad usage,
3 the RPC did not reach the device (connection, login, unknown device, timeout).
A ThingsBoard with a certificate from your own CA: NODE_EXTRA_CA_CERTS=ca.pem npm run rpc -- ...

Example: npm run rpc -- --url http://127.0.0.1:9090 "pi GPIO" toggle_gpio '{"pin":17}'`;

const EXIT_DEVICE_ERROR = 1;
const EXIT_USAGE = 2;
const EXIT_NOT_DELIVERED = 3;

class CliError extends Error {
  readonly exitCode: number;
  constructor(message: string, exitCode: number) {
    super(message);
    this.exitCode = exitCode;
  }
}

interface Args {
  base: string;
  user: string;
  password: string;
  oneway: boolean;
  timeoutMs: number;
  device: string;
  method: string;
  params: unknown;
}

function parse(argv: string[]): Args | "help" {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      options: {
        url: { type: "string", default: "http://127.0.0.1:9090" },
        user: { type: "string", default: "tenant@thingsboard.org" },
        password: { type: "string", default: "tenant" },
        oneway: { type: "boolean", default: false },
        timeout: { type: "string", default: "10000" },
        help: { type: "boolean", short: "h", default: false },
      },
      allowPositionals: true,
    });
  } catch (err) {
    throw new CliError(`${(err as Error).message}\n\n${USAGE}`, EXIT_USAGE);
  }
  const { values, positionals } = parsed;
  if (values.help) return "help";
  const [device, method, paramsText, ...extra] = positionals;
  if (!device || !method) throw new CliError(`A device name and a method are needed.\n\n${USAGE}`, EXIT_USAGE);
  if (extra.length)
    throw new CliError(
      `Unexpected argument ${JSON.stringify(extra[0])}: the params are one JSON argument (quote it).\n\n${USAGE}`,
      EXIT_USAGE,
    );
  let params: unknown = {};
  if (paramsText !== undefined) {
    try {
      params = JSON.parse(paramsText);
    } catch {
      throw new CliError(`The params must be JSON, e.g. '{"pin":17}'; got ${paramsText}`, EXIT_USAGE);
    }
  }
  const timeoutMs = Number(values.timeout);
  if (!Number.isInteger(timeoutMs) || timeoutMs <= 0)
    throw new CliError(`--timeout must be a positive number of milliseconds, got ${values.timeout}`, EXIT_USAGE);
  let base: URL;
  try {
    base = new URL(values.url);
  } catch {
    throw new CliError(`--url ${values.url} is not a URL (expected e.g. http://127.0.0.1:9090)`, EXIT_USAGE);
  }
  if (base.protocol !== "http:" && base.protocol !== "https:")
    throw new CliError(`--url must start with http:// or https://, got ${values.url}`, EXIT_USAGE);
  return {
    base: base.href.replace(/\/$/, ""),
    user: values.user,
    password: values.password,
    oneway: values.oneway,
    timeoutMs,
    device,
    method,
    params,
  };
}

/** fetch, with "fetch failed" turned into what failed and a bound on the wait. */
async function call(base: string, path: string, init: RequestInit, waitMs: number): Promise<Response> {
  try {
    return await fetch(base + path, { ...init, signal: AbortSignal.timeout(waitMs) });
  } catch (err) {
    throw new CliError(describeFetchError(err, base, waitMs), EXIT_NOT_DELIVERED);
  }
}

/** ThingsBoard's error bodies are {status, message, errorCode}; the message is what to show. */
function messageIn(text: string, fallback: string): string {
  try {
    const body = JSON.parse(text) as { message?: unknown };
    if (typeof body.message === "string") return body.message;
  } catch {
    /* not JSON: show it as it is */
  }
  return text.slice(0, 300) || fallback;
}

async function errorText(res: Response): Promise<string> {
  return messageIn(await res.text().catch(() => ""), res.statusText);
}

/** The dispatcher's error replies are {success: false, error, code}; ThingsBoard passes them through. */
function isErrorReply(body: unknown): boolean {
  if (typeof body !== "object" || body === null || Array.isArray(body)) return false;
  const o = body as Record<string, unknown>;
  return o["success"] === false || typeof o["error"] === "string";
}

async function run(a: Args): Promise<number> {
  const waitMs = 15_000;
  const login = await call(
    a.base,
    "/api/auth/login",
    {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ username: a.user, password: a.password }),
    },
    waitMs,
  );
  if (login.status === 401)
    throw new CliError(
      `${a.base} refused the login of ${a.user}: wrong user or password (--user, --password).`,
      EXIT_NOT_DELIVERED,
    );
  if (!login.ok)
    throw new CliError(
      `Login at ${a.base} failed: HTTP ${login.status} ${await errorText(login)}. Is --url a ThingsBoard?`,
      EXIT_NOT_DELIVERED,
    );
  const { token } = (await login.json()) as { token: string };
  const auth = { "X-Authorization": `Bearer ${token}`, "content-type": "application/json" };

  const found = await call(
    a.base,
    `/api/tenant/devices?deviceName=${encodeURIComponent(a.device)}`,
    { headers: auth },
    waitMs,
  );
  if (found.status === 404)
    throw new CliError(
      `${a.base} has no device named ${JSON.stringify(a.device)} (names are case-sensitive; the dashboard lists them).`,
      EXIT_NOT_DELIVERED,
    );
  if (!found.ok)
    throw new CliError(
      `Looking up device ${JSON.stringify(a.device)} failed: HTTP ${found.status} ${await errorText(found)}`,
      EXIT_NOT_DELIVERED,
    );
  const { id } = (await found.json()) as { id: { id: string } };

  const res = await call(
    a.base,
    `/api/plugins/rpc/${a.oneway ? "oneway" : "twoway"}/${id.id}`,
    {
      method: "POST",
      headers: auth,
      body: JSON.stringify({ method: a.method, params: a.params, timeout: a.timeoutMs }),
    },
    a.timeoutMs + waitMs,
  );
  const text = await res.text();
  // ThingsBoard answers these with an empty body (AbstractRpcController.reply), so the status is all there is.
  if (res.status === 408 || res.status === 504) {
    console.error(
      `No answer from ${JSON.stringify(a.device)} within ${a.timeoutMs} ms (HTTP ${res.status}): the device or its gateway is offline or busy.`,
    );
    return EXIT_NOT_DELIVERED;
  }
  if (res.status === 409) {
    console.error(
      `${JSON.stringify(a.device)} is not connected (HTTP 409: no active session; is its gateway running and online?).`,
    );
    return EXIT_NOT_DELIVERED;
  }
  if (res.status === 406) {
    console.error(`The device answered with something that is not JSON (HTTP 406).`);
    return EXIT_DEVICE_ERROR;
  }
  if (!res.ok) {
    console.error(`ThingsBoard did not deliver the RPC (HTTP ${res.status}): ${messageIn(text, res.statusText)}.`);
    return EXIT_NOT_DELIVERED;
  }
  if (a.oneway) {
    console.log(`HTTP ${res.status}: sent (one-way, no reply expected)`);
    return 0;
  }
  let body: unknown = null;
  try {
    body = text ? JSON.parse(text) : null;
  } catch {
    /* a device may answer with plain text */
  }
  if (isErrorReply(body)) {
    console.error(`The device answered an error: ${text}`);
    return EXIT_DEVICE_ERROR;
  }
  console.log(`HTTP ${res.status}${text ? ` ${text}` : ""}`);
  return 0;
}

try {
  const args = parse(process.argv.slice(2));
  if (args === "help") console.log(USAGE);
  else process.exitCode = await run(args);
} catch (err) {
  if (err instanceof CliError) {
    console.error(err.message);
    process.exitCode = err.exitCode;
  } else {
    console.error(`rpc failed: ${(err as Error).message}`);
    process.exitCode = EXIT_NOT_DELIVERED;
  }
}
