// The Raspberry Pi's 40-pin header as it is on the board (pinout.xyz; BCM2711/BCM2835 datasheets
// "Alternative Function Assignments"), and what the configuration puts on each pin. The config
// validator and the dashboard's header view both use it, so they always agree.
import { isI2cSensorChip, type Config } from "./schema.ts";

export type PowerPin = "3v3" | "5v" | "gnd";

export interface HeaderSlot {
  physical: number;
  /** BCM GPIO number, null for power and ground. */
  bcm: number | null;
  power?: PowerPin;
  /** The pin's alternate function that matters here (I2C, UART, SPI, HAT EEPROM). */
  alt?: string;
}

const P = (physical: number, bcm: number | null, extra: Partial<HeaderSlot> = {}): HeaderSlot => ({
  physical,
  bcm,
  ...extra,
});

export const HEADER: readonly HeaderSlot[] = [
  P(1, null, { power: "3v3" }),
  P(2, null, { power: "5v" }),
  P(3, 2, { alt: "I2C1 SDA" }),
  P(4, null, { power: "5v" }),
  P(5, 3, { alt: "I2C1 SCL" }),
  P(6, null, { power: "gnd" }),
  P(7, 4),
  P(8, 14, { alt: "UART TX" }),
  P(9, null, { power: "gnd" }),
  P(10, 15, { alt: "UART RX" }),
  P(11, 17),
  P(12, 18),
  P(13, 27),
  P(14, null, { power: "gnd" }),
  P(15, 22),
  P(16, 23),
  P(17, null, { power: "3v3" }),
  P(18, 24),
  P(19, 10, { alt: "SPI0 MOSI" }),
  P(20, null, { power: "gnd" }),
  P(21, 9, { alt: "SPI0 MISO" }),
  P(22, 25),
  P(23, 11, { alt: "SPI0 SCLK" }),
  P(24, 8, { alt: "SPI0 CE0" }),
  P(25, null, { power: "gnd" }),
  P(26, 7, { alt: "SPI0 CE1" }),
  P(27, 0, { alt: "ID_SD (I2C0 SDA)" }),
  P(28, 1, { alt: "ID_SC (I2C0 SCL)" }),
  P(29, 5),
  P(30, null, { power: "gnd" }),
  P(31, 6),
  P(32, 12),
  P(33, 13),
  P(34, null, { power: "gnd" }),
  P(35, 19),
  P(36, 16),
  P(37, 26),
  P(38, 20),
  P(39, null, { power: "gnd" }),
  P(40, 21),
];

const BY_BCM = new Map(HEADER.filter((s) => s.bcm !== null).map((s) => [s.bcm as number, s]));

export function physicalPin(bcm: number): number | null {
  return BY_BCM.get(bcm)?.physical ?? null;
}

/** "GPIO 17 (physical pin 11)": how errors and the page name a pin. */
export function pinName(bcm: number): string {
  const p = physicalPin(bcm);
  return p === null ? `GPIO ${bcm}` : `GPIO ${bcm} (physical pin ${p})`;
}

/** The pins a bus takes while it is in use: I2C bus 1 on GPIO 2/3, bus 0 on GPIO 0/1; the UART on GPIO 14/15. */
export const I2C_PINS: Readonly<Record<number, readonly [number, number]>> = { 1: [2, 3], 0: [0, 1] };
export const UART_PINS = [14, 15] as const;

/** w1: the 1-Wire bus pin, shared by every DS18B20 on it; dht: a DHT sensor's data pin; pwm: a hardware PWM output. */
export type PinRole = "output" | "input" | "claim" | "i2c" | "uart" | "w1" | "dht" | "pwm";

/** Roles a pin can carry several of at once (buses); any other use of such a pin is a clash. */
const BUS_ROLES: readonly PinRole[] = ["i2c", "uart", "w1"];

export interface PinUse {
  role: PinRole;
  /** Local device id (none for the claim button and the UART). */
  device?: string;
  /** Pin label, chip, or what the bus is. */
  label: string;
  /** Config path of the use, e.g. devices[0].outputs[1].pin. */
  at: string;
}

export interface HeaderPin extends HeaderSlot {
  uses: PinUse[];
  /** Why this pin is wrongly used (two uses, or a GPIO use of a bus pin); absent when fine. */
  conflict?: string;
}

/** Every use the configuration makes of each BCM pin. uartEnabled: the serial console/UART is on (Pi only). */
export function pinUses(c: Pick<Config, "devices" | "gateway">, uartEnabled = false): Map<number, PinUse[]> {
  const uses = new Map<number, PinUse[]>();
  const add = (bcm: number, u: PinUse) => uses.set(bcm, [...(uses.get(bcm) ?? []), u]);
  c.devices.forEach((d, i) => {
    if (d.kind === "gpio") {
      d.outputs.forEach((o, j) =>
        add(o.pin, {
          role: "output",
          device: d.id,
          label: o.label ?? `gpio${o.pin}`,
          at: `devices[${i}].outputs[${j}].pin`,
        }),
      );
      d.inputs.forEach((o, j) =>
        add(o.pin, {
          role: "input",
          device: d.id,
          label: o.label ?? `gpio${o.pin}`,
          at: `devices[${i}].inputs[${j}].pin`,
        }),
      );
    } else if (d.kind === "pwm") {
      d.outputs.forEach((o, j) =>
        add(o.pin, {
          role: "pwm",
          device: d.id,
          label: o.label ?? `pwm${o.pin}`,
          at: `devices[${i}].outputs[${j}].pin`,
        }),
      );
    } else if (d.kind === "sensor" && !isI2cSensorChip(d.chip)) {
      const pin = typeof d.options.pin === "number" ? d.options.pin : 4; // both overlays default to GPIO 4
      add(pin, {
        role: d.chip === "ds18b20" ? "w1" : "dht",
        device: d.id,
        label: d.chip,
        at: `devices[${i}].options.pin`,
      });
    } else if (d.kind === "sensor") {
      const pins = I2C_PINS[d.bus];
      if (pins) for (const p of pins) add(p, { role: "i2c", device: d.id, label: d.chip, at: `devices[${i}]` });
    }
  });
  const cb = c.gateway.claimButton;
  if (cb) add(cb.pin, { role: "claim", label: "claim button", at: "gateway.claimButton.pin" });
  if (uartEnabled)
    for (const p of UART_PINS) add(p, { role: "uart", label: "UART (serial console)", at: "the Pi's UART" });
  return uses;
}

/** One conflict text per wrongly used pin, or null: the same pin twice, or a GPIO use of a pin a bus holds. */
export function conflictOf(bcm: number, uses: readonly PinUse[]): { at: string; message: string } | null {
  const gpio = uses.filter((u) => !BUS_ROLES.includes(u.role));
  const buses = uses.filter((u) => BUS_ROLES.includes(u.role));
  const bus = buses[0];
  const first = gpio[0] ?? (bus && buses.find((u) => u.role !== bus.role));
  if (bus && first) {
    const what =
      bus.role === "i2c"
        ? i2cFunction(bcm)
        : bus.role === "w1"
          ? "the 1-Wire bus"
          : bcm === UART_PINS[0]
            ? "UART TX"
            : "UART RX";
    return {
      at: first.at,
      message: `${pinName(bcm)} belongs to ${what}, in use by ${bus.device ? `${bus.at} (${bus.device})` : bus.label}`,
    };
  }
  if (gpio.length > 1) {
    const second = gpio[1] as PinUse;
    return { at: second.at, message: `${pinName(bcm)} is already used by ${first?.at}` };
  }
  return null;
}

function i2cFunction(bcm: number): string {
  for (const [bus, pins] of Object.entries(I2C_PINS)) {
    const i = pins.indexOf(bcm);
    if (i >= 0) return `I2C${bus} ${i === 0 ? "SDA" : "SCL"}`;
  }
  return "I2C";
}

/** The header with each pin's uses and conflicts, for the dashboard. */
export function headerView(c: Pick<Config, "devices" | "gateway">, uartEnabled = false): HeaderPin[] {
  const uses = pinUses(c, uartEnabled);
  return HEADER.map((slot) => {
    const u = slot.bcm === null ? [] : (uses.get(slot.bcm) ?? []);
    const conflict = slot.bcm === null ? null : conflictOf(slot.bcm, u);
    return { ...slot, uses: u, ...(conflict ? { conflict: conflict.message } : {}) };
  });
}

/** Validator errors for the header: "<path>: GPIO 2 (physical pin 3) belongs to I2C1 SDA, ...". */
export function headerErrors(c: Pick<Config, "devices" | "gateway">): string[] {
  const out: string[] = [];
  for (const [bcm, uses] of pinUses(c)) {
    // Each extra GPIO use of one pin is its own error, naming the first use.
    const gpio = uses.filter((u) => !BUS_ROLES.includes(u.role));
    const conflict = conflictOf(bcm, uses);
    if (!conflict) continue;
    if (uses.some((u) => u.role === "i2c" || u.role === "w1")) out.push(`${conflict.at}: ${conflict.message}`);
    for (const u of gpio.slice(1)) out.push(`${u.at}: ${pinName(bcm)} is already used by ${gpio[0]?.at}`);
  }
  return out;
}
