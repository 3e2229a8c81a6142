// Send a server-side RPC through ThingsBoard's REST API (or the emulator's, which serves the same
// paths): log in, look the device up by name, POST a two-way RPC, print the device's reply.
//   npm run rpc -- [--url http://127.0.0.1:9090] [--user U] [--password P] [--oneway] "<device name>" <method> ['<params JSON>']
import { parseArgs } from "node:util";

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({
    options: { url: { type: "string", default: "http://127.0.0.1:9090" }, user: { type: "string", default: "tenant@thingsboard.org" }, password: { type: "string", default: "tenant" }, oneway: { type: "boolean", default: false }, timeout: { type: "string", default: "10000" } },
    allowPositionals: true,
  });
  const [device, method, paramsText] = positionals;
  if (!device || !method) throw new Error('usage: npm run rpc -- [--url URL] "<device name>" <method> [\'{"pin":17}\']');
  let params: unknown = {};
  if (paramsText) {
    try {
      params = JSON.parse(paramsText);
    } catch {
      throw new Error(`params must be JSON, got ${paramsText}`);
    }
  }
  const base = values.url.replace(/\/$/, "");
  const login = await fetch(`${base}/api/auth/login`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ username: values.user, password: values.password }) });
  if (!login.ok) throw new Error(`login failed: HTTP ${login.status}`);
  const { token } = (await login.json()) as { token: string };
  const auth = { "X-Authorization": `Bearer ${token}`, "content-type": "application/json" };
  const found = await fetch(`${base}/api/tenant/devices?deviceName=${encodeURIComponent(device)}`, { headers: auth });
  if (!found.ok) throw new Error(`device ${JSON.stringify(device)}: HTTP ${found.status}`);
  const { id } = (await found.json()) as { id: { id: string } };
  const res = await fetch(`${base}/api/plugins/rpc/${values.oneway ? "oneway" : "twoway"}/${id.id}`, { method: "POST", headers: auth, body: JSON.stringify({ method, params, timeout: Number(values.timeout) }) });
  const text = await res.text();
  console.log(`HTTP ${res.status}${text ? ` ${text}` : ""}`);
  if (!res.ok) process.exitCode = 1;
}

main().catch((err: Error) => {
  console.error(err.message);
  process.exit(1);
});
