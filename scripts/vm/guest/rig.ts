// What the virtual Pi's checks share: where things are in the VM, the kernel stand-ins and the
// emulator they run against, and the wait for a telemetry report.
import type { Emulator } from "../../emulator/index.ts";
import { CheckFailed, type Checks } from "./harness.ts";
import type { SimGpio } from "./kernelSims.ts";

/** The checkout as run.sh copied it in, and the production node_modules made for it on the host. */
export const SRC = "/root/src/v1";
export const SEED = "/root/seed";
/** Every bound in the checks is for emulated CPUs on a shared 2-core host: generous on purpose. */
export const TCG = 1;

export interface Rig {
  checks: Checks;
  emu: Emulator;
  sim: SimGpio;
  /** The i2c-stub bus number (/dev/i2c-N). */
  bus: number;
  /** When the service was last stopped (SIGSTOP) or killed: its next start-up report comes later. */
  lastStop: number;
  lastKill: number;
  /** config.yaml as the checks wrote it, which no upgrade or uninstall may change. */
  confHash: string;
}

/** The sysfs number of a BCM line on the gpio-sim "Pi 4". */
export const gpioOf = (rig: Rig, bcm: number): number => rig.sim.base + bcm;

type Rec = { ts: number; values: Record<string, unknown> };

/**
 * Resolves with the first value of `key` reported by `device`, among the reports after the first
 * `skip` ones, that `match` accepts (already stored or yet to come).
 */
export function untilTelemetry(
  emu: Emulator,
  device: string,
  key: string,
  what: string,
  timeoutMs: number,
  match: (value: unknown, ts: number) => boolean,
  skip = 0,
): Promise<Rec> {
  return new Promise((resolve, reject) => {
    const scan = (): void => {
      const found = emu
        .telemetry(device, key)
        .slice(skip)
        .find((r) => match(r.values[key], r.ts));
      if (!found) return;
      cleanup();
      resolve(found);
    };
    const onTelemetry = (name: string): void => {
      if (name === device) scan();
    };
    const timer = setTimeout(() => {
      cleanup();
      reject(new CheckFailed(`timed out after ${timeoutMs / 1000} s waiting for ${what} from ${device}`));
    }, timeoutMs);
    const cleanup = (): void => {
      clearTimeout(timer);
      emu.events.off("telemetry", onTelemetry);
    };
    emu.events.on("telemetry", onTelemetry);
    scan();
  });
}

export const count = (emu: Emulator, device: string, key: string): number => emu.telemetry(device, key).length;
