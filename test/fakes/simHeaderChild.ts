// The appliance as a child process, for kill -9 tests that need the outside world on the
// simulated header: the same composition root server/main.ts starts (config file -> Controller ->
// start), plus a control channel the real entry point does not have, because nothing outside the
// process can reach the simulated GPIO chip. Commands on stdin, one per line:
//   input <bcm pin> <level>   apply an electrical level to an input (a door contact, a button)
// Every telemetry record a GPIO device produces is printed as `SIMCTL telemetry <json>`: the
// positive signal that a (debounced) edge was read and reported, i.e. handed to the outbox path.
// Run as: node --import tsx test/fakes/simHeaderChild.ts <config.yaml>
import { createInterface } from "node:readline";
import { loadConfigFile } from "../../server/config/load.ts";
import { Controller } from "../../server/controller.ts";
import { createLogger } from "../../server/util/logger.ts";

const file = process.argv[2];
if (!file) throw new Error("usage: simHeaderChild.ts <config.yaml>");
const loaded = loadConfigFile(file, {});
if (!loaded.ok) throw new Error(`config ${file} is not valid: ${loaded.errors.join("; ")}`);
const config = loaded.config;
const log = createLogger(config.log.level);
const controller = new Controller({ config, log, unit: config.unit.name ?? "rel", version: "0.0.0-test" });
const sim = controller.hardware.sim;
if (!sim) throw new Error("simHeaderChild needs hardware: sim");
const gpioDevices = new Set(config.devices.filter((d) => d.kind === "gpio").map((d) => d.id));

await controller.start();
const owner = {};
controller.bus.on(owner, "telemetry", (device, record) => {
  const d = controller.runtime.list().find((x) => x.info.name === device);
  if (d && gpioDevices.has(d.info.id)) console.log(`SIMCTL telemetry ${JSON.stringify({ device, ...record })}`);
});
process.on("SIGTERM", () => {
  controller.stop().then(
    () => process.exit(0),
    () => process.exit(1),
  );
});

createInterface({ input: process.stdin }).on("line", (line) => {
  const [cmd, a, b] = line.trim().split(/\s+/);
  if (cmd === "input") {
    sim.gpio.setInput(Number(a), Number(b) === 1 ? 1 : 0);
    console.log(`SIMCTL done ${line.trim()}`);
  } else console.log(`SIMCTL unknown command ${JSON.stringify(line)}`);
});
console.log("SIMCTL ready");
