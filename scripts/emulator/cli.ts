// `npm run emulator -- [options]` (see USAGE): a ThingsBoard stand-in on the LAN or loopback.
// Prints what it listens on, the REST login and a curl example, then one line per device
// event with telemetry summarised at most every few seconds. The limit options take the
// tenant profile's strings ("capacity:seconds[,capacity:seconds]"), so a user can rehearse
// their ThingsBoard Cloud tenant's limits locally (README, "Rehearsing your tenant's limits").
import { consoleEmulatorLog } from "./log.ts";
import { startEmulator, type EmulatorOptions } from "./index.ts";
import { RateLimit, type RateLimitSpec } from "./rateLimits.ts";

const SUMMARY_INTERVAL_MS = 5000;

interface CliArgs {
  host: string;
  mqttPort: number;
  httpPort: number;
  tokens: string[];
  devices: Array<{ name: string; accessToken: string }>;
  provisionKey?: string;
  provisionSecret?: string;
  /** transportGateway* (all sub-device traffic of a gateway: getSessionLimits gatewayRateLimits). */
  gatewayLimits: RateLimitSpec;
  /** transportGatewayDevice* / transportDevice* (a device's own traffic: getSessionLimits rateLimits). */
  deviceLimits: RateLimitSpec;
  tenantLimits: RateLimitSpec;
  maxDevices?: number;
  sessionInactivityMs?: number;
  maxPayloadSize?: number;
}

const USAGE = `usage: npm run emulator -- [--host 127.0.0.1] [--mqtt-port 1883] [--http-port 9090]
  [--token GATEWAY_TOKEN]... [--device NAME=TOKEN]... [--provision-key K --provision-secret S]
  [--gateway-messages L] [--gateway-telemetry-messages L] [--gateway-data-points L]
  [--device-messages L] [--device-telemetry-messages L] [--device-data-points L]
  [--tenant-messages L] [--tenant-telemetry-messages L] [--tenant-data-points L]
  [--max-devices N] [--session-inactivity-ms MS] [--max-payload-size BYTES]
L is a tenant-profile limit such as 10:1,300:60 (capacity:seconds, comma-separated); giving any
limit enforces them all as ThingsBoard does (PUBACK 0x97 and a closed connection on a breach).`;

function usage(msg: string): never {
  process.stderr.write(`${msg}\n${USAGE}\n`);
  process.exit(2);
}

function parseArgs(argv: string[]): CliArgs {
  const out: CliArgs = {
    host: "127.0.0.1",
    mqttPort: 1883,
    httpPort: 9090,
    tokens: [],
    devices: [],
    gatewayLimits: {},
    deviceLimits: {},
    tenantLimits: {},
  };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    if (flag === undefined) break;
    const value = argv[i + 1];
    const port = (): number => {
      const n = Number(value);
      if (!Number.isInteger(n) || n < 0 || n > 65535) usage(`${flag} needs a port number, got ${String(value)}`);
      return n;
    };
    const text = (): string => {
      if (value === undefined || value.startsWith("--")) usage(`${flag} needs a value`);
      return value;
    };
    const count = (): number => {
      const n = Number(value);
      if (!Number.isInteger(n) || n < 0) usage(`${flag} needs a whole number, got ${String(value)}`);
      return n;
    };
    const limit = (): string => {
      const v = text();
      try {
        new RateLimit(v);
      } catch (err) {
        usage(`${flag}: ${(err as Error).message}`);
      }
      return v;
    };
    const device = (): { name: string; accessToken: string } => {
      const m = /^(.+)=(.+)$/.exec(text());
      if (!m) usage(`${flag} needs NAME=TOKEN`);
      return { name: m[1] as string, accessToken: m[2] as string };
    };
    switch (flag) {
      case "--mqtt-port":
        out.mqttPort = port();
        break;
      case "--http-port":
        out.httpPort = port();
        break;
      case "--host":
        out.host = text();
        break;
      case "--token":
        out.tokens.push(text());
        break;
      case "--device":
        out.devices.push(device());
        break;
      case "--gateway-messages":
        out.gatewayLimits.messages = limit();
        break;
      case "--gateway-telemetry-messages":
        out.gatewayLimits.telemetryMessages = limit();
        break;
      case "--gateway-data-points":
        out.gatewayLimits.telemetryDataPoints = limit();
        break;
      case "--device-messages":
        out.deviceLimits.messages = limit();
        break;
      case "--device-telemetry-messages":
        out.deviceLimits.telemetryMessages = limit();
        break;
      case "--device-data-points":
        out.deviceLimits.telemetryDataPoints = limit();
        break;
      case "--tenant-messages":
        out.tenantLimits.messages = limit();
        break;
      case "--tenant-telemetry-messages":
        out.tenantLimits.telemetryMessages = limit();
        break;
      case "--tenant-data-points":
        out.tenantLimits.telemetryDataPoints = limit();
        break;
      case "--max-devices":
        out.maxDevices = count();
        break;
      case "--session-inactivity-ms":
        out.sessionInactivityMs = count();
        break;
      case "--max-payload-size":
        out.maxPayloadSize = count();
        break;
      case "--provision-key":
        out.provisionKey = text();
        break;
      case "--provision-secret":
        out.provisionSecret = text();
        break;
      case "--help":
      case "-h":
        usage("ThingsBoard emulator");
      default:
        usage(`unknown argument ${String(flag)}`);
    }
    i++;
  }
  if (out.tokens.length === 0) out.tokens.push("demo-gateway-token");
  return out;
}

function line(msg: string): void {
  process.stdout.write(`${new Date().toISOString()} ${msg}\n`);
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const opts: EmulatorOptions = {
    host: args.host,
    mqttPort: args.mqttPort,
    httpPort: args.httpPort,
    gateways: args.tokens.map((t, i) => ({ name: i === 0 ? "Gateway" : `Gateway ${i + 1}`, accessToken: t })),
    log: consoleEmulatorLog("warn"),
  };
  if (args.provisionKey && args.provisionSecret)
    opts.provision = { key: args.provisionKey, secret: args.provisionSecret };
  if (args.devices.length) opts.devices = args.devices;
  const limited = [args.gatewayLimits, args.deviceLimits, args.tenantLimits].some((l) => Object.keys(l).length > 0);
  if (limited) {
    opts.enforceRateLimits = true;
    opts.gatewayRateLimits = args.gatewayLimits;
    opts.rateLimits = args.deviceLimits;
    opts.tenantRateLimits = args.tenantLimits;
  }
  if (args.maxDevices !== undefined) opts.maxDevices = args.maxDevices;
  if (args.sessionInactivityMs) opts.sessionInactivityTimeoutMs = args.sessionInactivityMs;
  if (args.maxPayloadSize) opts.maxPayloadSize = args.maxPayloadSize;
  const emu = await startEmulator(opts);

  line(
    `ThingsBoard emulator: MQTT on ${args.host}:${emu.mqttPort}, REST on http://${args.host}:${emu.httpPort ?? "-"}`,
  );
  line(`gateway access token(s): ${args.tokens.join(", ")}`);
  line(`REST login: tenant@thingsboard.org / tenant`);
  if (args.devices.length) line(`device token(s): ${args.devices.map((d) => `${d.name}=${d.accessToken}`).join(", ")}`);
  if (limited)
    line(
      `enforcing limits: gateway ${JSON.stringify(args.gatewayLimits)}, device ${JSON.stringify(args.deviceLimits)}, tenant ${JSON.stringify(args.tenantLimits)}`,
    );
  if (args.maxDevices) line(`tenant device limit: ${args.maxDevices} devices (gateways included)`);
  line(
    `try: curl -s -X POST http://${args.host}:${emu.httpPort ?? 9090}/api/auth/login -H 'Content-Type: application/json' ` +
      `-d '{"username":"tenant@thingsboard.org","password":"tenant"}'`,
  );

  const counts = new Map<string, number>();
  emu.events.on("session", (i: { deviceName?: string; provision: boolean; remote: string }) =>
    line(`session open: ${i.provision ? "provisioning" : (i.deviceName ?? "?")} from ${i.remote}`),
  );
  emu.events.on("sessionClosed", (i: { deviceName?: string; provision: boolean }) =>
    line(`session closed: ${i.provision ? "provisioning" : (i.deviceName ?? "?")}`),
  );
  emu.events.on("connect", (name: string) => line(`device connected: ${name}`));
  emu.events.on("disconnect", (name: string) => line(`device disconnected: ${name}`));
  emu.events.on("provision", (status: string, name: string | undefined) => line(`provision ${status}: ${name ?? "-"}`));
  emu.events.on("deviceLimit", (name: string) => line(`device refused (Maximum number of devices reached!): ${name}`));
  emu.events.on("subSessionExpired", (name: string) => line(`sub-device session expired (no traffic): ${name}`));
  let breaches = 0;
  const breachCheck = setInterval(() => {
    if (emu.stats.rateLimitBreaches === breaches) return;
    line(
      `RATE LIMIT BREACHES so far: ${emu.stats.rateLimitBreaches} (the connection was closed for each one on telemetry/attributes)`,
    );
    breaches = emu.stats.rateLimitBreaches;
  }, SUMMARY_INTERVAL_MS);
  emu.events.on("telemetry", (name: string, records: unknown[]) =>
    counts.set(name, (counts.get(name) ?? 0) + records.length),
  );
  const summary = setInterval(() => {
    if (counts.size === 0) return;
    line(
      `telemetry records in the last ${SUMMARY_INTERVAL_MS / 1000} s: ${[...counts].map(([n, c]) => `${n}=${c}`).join(", ")}`,
    );
    counts.clear();
  }, SUMMARY_INTERVAL_MS);

  const shutdown = (sig: string): void => {
    line(`${sig}: stopping`);
    clearInterval(summary);
    clearInterval(breachCheck);
    emu.stop().then(
      () => process.exit(0),
      (err: unknown) => {
        process.stderr.write(`stop failed: ${String(err)}\n`);
        process.exit(1);
      },
    );
  };
  process.once("SIGINT", () => shutdown("SIGINT"));
  process.once("SIGTERM", () => shutdown("SIGTERM"));
}

main().catch((err: unknown) => {
  process.stderr.write(`emulator failed to start: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
