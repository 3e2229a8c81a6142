// The out-of-the-box demo: what `npm start` runs with no config file. Simulated hardware
// (register-level chip models, a simulated GPIO header), the demo devices of the README, and a
// "world" that slowly changes the environment and now and then presses the button, so the
// dashboard and ThingsBoard show live data.
import type { ConfigInput } from "./config/schema.ts";
import type { Hardware } from "./hardware.ts";
import type { Feature } from "./features/feature.ts";

export const DEMO_GATEWAY_TOKEN = "demo-gateway-token";

/**
 * The demo's raw config for this environment. With TB_HOST set the demo devices go to a real
 * ThingsBoard, whose gateway token only the user knows: the demo token is then not filled in,
 * so without TB_ACCESS_TOKEN the config check refuses to start instead of logging in with a
 * made-up token (issue 18).
 */
export function demoConfigFor(env: NodeJS.ProcessEnv): ConfigInput {
  const config = demoConfig();
  if (env.TB_HOST) config.thingsboard = { ...config.thingsboard, accessToken: undefined };
  return config;
}

export function demoConfig(): ConfigInput {
  return {
    hardware: "sim",
    thingsboard: { host: "127.0.0.1", port: 1883, accessToken: DEMO_GATEWAY_TOKEN },
    devices: [
      {
        id: "gpio",
        kind: "gpio",
        name: "{unit} GPIO",
        profile: "GPIO Controller",
        outputs: [
          { pin: 17, label: "relay1" },
          { pin: 27, label: "relay2" },
        ],
        inputs: [{ pin: 22, label: "button", activeLow: true, debounceMs: 25 }],
        report: { strategy: "onChange" },
      },
      {
        id: "climate",
        kind: "sensor",
        chip: "bme280",
        name: "{unit} BME280",
        address: 0x76,
        intervalSec: 2,
        report: { strategy: "onChangeOrPeriod", threshold: 0.05, periodSec: 60 },
      },
      {
        id: "humidity",
        kind: "sensor",
        chip: "sht31",
        name: "{unit} SHT31",
        address: 0x44,
        intervalSec: 2,
        report: { strategy: "onChangeOrPeriod", threshold: 0.05, periodSec: 60 },
      },
      {
        id: "light",
        kind: "sensor",
        chip: "bh1750",
        name: "{unit} BH1750",
        address: 0x23,
        intervalSec: 2,
        report: { strategy: "onChangeOrPeriod", threshold: 1, periodSec: 60 },
      },
      {
        id: "air",
        kind: "sensor",
        chip: "sht4x",
        name: "{unit} SHT40",
        address: 0x45,
        intervalSec: 2,
        report: { strategy: "onChangeOrPeriod", threshold: 0.05, periodSec: 60 },
      },
      // Hardware PWM: a 4-wire PC fan at 25 kHz on GPIO 18 and a valve servo on GPIO 13 (50 Hz, 1-2 ms).
      {
        id: "pwm",
        kind: "pwm",
        name: "{unit} PWM",
        outputs: [
          { pin: 18, label: "fan", frequencyHz: 25_000, safeDuty: 0 },
          { pin: 13, label: "valve", servo: { minUs: 1000, maxUs: 2000, safeUs: 1000 } },
        ],
      },
      // Two DS18B20 probes on the 1-Wire pin (GPIO 4): each its own device, named by its ROM id or here by a name.
      {
        id: "tank",
        kind: "sensor",
        chip: "ds18b20",
        name: "{unit} tank {romId}",
        intervalSec: 5,
        options: { romId: "28-0316a2791f2a" },
        report: { strategy: "onChangeOrPeriod", threshold: 0.1, periodSec: 60 },
      },
      {
        id: "pipe",
        kind: "sensor",
        chip: "ds18b20",
        intervalSec: 5,
        options: { romId: "28-031997791b05" },
        report: { strategy: "onChangeOrPeriod", threshold: 0.1, periodSec: 60 },
      },
      {
        id: "porch",
        kind: "sensor",
        chip: "dht22",
        name: "{unit} DHT22",
        intervalSec: 5,
        options: { pin: 23 },
        report: { strategy: "onChangeOrPeriod", threshold: 0.1, periodSec: 60 },
      },
      // A 12 V pump fed through an INA219 breakout (0.1 Ω shunt, up to 2 A).
      {
        id: "power",
        kind: "sensor",
        chip: "ina219",
        name: "{unit} INA219",
        address: 0x40,
        intervalSec: 2,
        options: { shuntOhms: 0.1, maxCurrentA: 2 },
        report: { strategy: "onChangeOrPeriod", threshold: 0.01, periodSec: 60 },
      },
    ],
  };
}

interface EnvironmentModel {
  set(env: Record<string, number>): void;
}

function isEnvModel(m: unknown): m is EnvironmentModel {
  return typeof m === "object" && m !== null && typeof (m as { set?: unknown }).set === "function";
}

/** Drives the simulated environment: slow daily-like drift plus noise; presses the button now and then. */
export class DemoWorld implements Feature {
  #hw: Hardware;
  #timer: NodeJS.Timeout | null = null;
  #t0 = Date.now();
  #ticks = 0;

  constructor(hw: Hardware) {
    this.#hw = hw;
  }

  start(periodMs = 1000): void {
    this.#tick();
    this.#timer = setInterval(() => this.#tick(), periodMs);
    this.#timer.unref();
  }

  stop(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
  }

  #tick(): void {
    const sim = this.#hw.sim;
    if (!sim) return;
    const t = (Date.now() - this.#t0) / 1000;
    const noise = () => (Math.random() - 0.5) * 0.1;
    const temperature = 21.5 + 2 * Math.sin(t / 90) + noise();
    const humidity = 45 + 8 * Math.sin(t / 120 + 1) + noise();
    const pressure = 1013.25 + 3 * Math.sin(t / 300) + noise();
    const lux = Math.max(0, 350 + 250 * Math.sin(t / 60) + (Math.random() - 0.5) * 10);
    // The pump draws ~0.8 A while the first relay is on, a few mA of standby otherwise.
    const pumpOn = sim.gpio.level(17) === 1;
    const current = (pumpOn ? 0.8 : 0.004) + (Math.random() - 0.5) * 0.004;
    const busVoltage = 12 - current * 0.15 + (Math.random() - 0.5) * 0.01;
    for (const m of sim.models.values()) {
      if (isEnvModel(m)) m.set({ temperature, humidity, pressure, lux, current, busVoltage });
    }
    // The kernel twins: the probes sit in a cooler water tank, the DHT22 outdoors.
    sim.sysfs?.w1.set({ temperature: temperature - 6 + noise() });
    sim.sysfs?.iio.set({ temperature: temperature - 9 + noise(), humidity: Math.min(100, humidity + 20) });
    // Press the demo button (active-low: pressed = electrical 0) for a second every 30 s.
    this.#ticks++;
    if (this.#ticks % 30 === 0) {
      sim.gpio.setInput(22, 0);
      setTimeout(() => sim.gpio.setInput(22, 1), 1000).unref();
    }
  }
}
