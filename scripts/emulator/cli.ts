// `npm run emulator -- [--mqtt-port 1883] [--http-port 9090] [--token TOKEN]... [--host H]
//  [--provision-key K --provision-secret S]`: a ThingsBoard stand-in on the LAN or loopback.
// Prints what it listens on, the REST login and a curl example, then one line per device
// event with telemetry summarised at most every few seconds.
import { createLogger } from "../../server/util/logger.ts";
import { startEmulator, type EmulatorOptions } from "./index.ts";

const SUMMARY_INTERVAL_MS = 5000;

interface CliArgs {
  host: string;
  mqttPort: number;
  httpPort: number;
  tokens: string[];
  provisionKey?: string;
  provisionSecret?: string;
}

function usage(msg: string): never {
  process.stderr.write(`${msg}\nusage: npm run emulator -- [--host 127.0.0.1] [--mqtt-port 1883] [--http-port 9090] [--token TOKEN]... [--provision-key K --provision-secret S]\n`);
  process.exit(2);
}

function parseArgs(argv: string[]): CliArgs {
  const out: CliArgs = { host: "127.0.0.1", mqttPort: 1883, httpPort: 9090, tokens: [] };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
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
    switch (flag) {
      case "--mqtt-port": out.mqttPort = port(); break;
      case "--http-port": out.httpPort = port(); break;
      case "--host": out.host = text(); break;
      case "--token": out.tokens.push(text()); break;
      case "--provision-key": out.provisionKey = text(); break;
      case "--provision-secret": out.provisionSecret = text(); break;
      case "--help": case "-h": usage("ThingsBoard emulator");
      default: usage(`unknown argument ${String(flag)}`);
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
    log: createLogger("warn"),
  };
  if (args.provisionKey && args.provisionSecret) opts.provision = { key: args.provisionKey, secret: args.provisionSecret };
  const emu = await startEmulator(opts);

  line(`ThingsBoard emulator: MQTT on ${args.host}:${emu.mqttPort}, REST on http://${args.host}:${emu.httpPort ?? "-"}`);
  line(`gateway access token(s): ${args.tokens.join(", ")}`);
  line(`REST login: tenant@thingsboard.org / tenant`);
  line(
    `try: curl -s -X POST http://${args.host}:${emu.httpPort ?? 9090}/api/auth/login -H 'Content-Type: application/json' ` +
      `-d '{"username":"tenant@thingsboard.org","password":"tenant"}'`,
  );

  const counts = new Map<string, number>();
  emu.events.on("session", (i: { deviceName?: string; provision: boolean; remote: string }) =>
    line(`session open: ${i.provision ? "provisioning" : (i.deviceName ?? "?")} from ${i.remote}`));
  emu.events.on("sessionClosed", (i: { deviceName?: string; provision: boolean }) =>
    line(`session closed: ${i.provision ? "provisioning" : (i.deviceName ?? "?")}`));
  emu.events.on("connect", (name: string) => line(`device connected: ${name}`));
  emu.events.on("disconnect", (name: string) => line(`device disconnected: ${name}`));
  emu.events.on("provision", (status: string, name: string | undefined) => line(`provision ${status}: ${name ?? "-"}`));
  emu.events.on("telemetry", (name: string, records: unknown[]) => counts.set(name, (counts.get(name) ?? 0) + records.length));
  const summary = setInterval(() => {
    if (counts.size === 0) return;
    line(`telemetry records in the last ${SUMMARY_INTERVAL_MS / 1000} s: ${[...counts].map(([n, c]) => `${n}=${c}`).join(", ")}`);
    counts.clear();
  }, SUMMARY_INTERVAL_MS);

  const shutdown = (sig: string): void => {
    line(`${sig}: stopping`);
    clearInterval(summary);
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
