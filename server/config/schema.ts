// The one source of truth for configuration: this zod schema gives the TypeScript type,
// the defaults and the validation. Config keys are camelCase in YAML and code alike.
import { z } from "zod";

const int = (min: number, max: number, what = "integer") =>
  z
    .number({ error: `expected ${what} ${min}-${max}` })
    .int({ error: `expected ${what} ${min}-${max}` })
    .min(min, { error: `expected ${what} ${min}-${max}` })
    .max(max, { error: `expected ${what} ${min}-${max}` });

/** BCM GPIO numbers on the 40-pin header. */
export const bcmPin = int(0, 27);
const i2cAddress = int(0x03, 0x77, "I2C address");
const name = z
  .string({ error: "expected a non-empty string" })
  .trim()
  .min(1, { error: "expected a non-empty string" })
  .max(255, { error: "at most 255 characters" });

export const reportSchema = z
  .object({
    /** every: each reading; onChange: only when a value moves by more than threshold;
     *  onChangeOrPeriod: on change, and at least every periodSec. */
    strategy: z.enum(["every", "onChange", "onChangeOrPeriod"]).default("onChangeOrPeriod"),
    threshold: z.number().min(0).default(0),
    periodSec: z.number().positive().default(300),
    /** Per-key thresholds override threshold, e.g. {temperature: 0.1}. */
    thresholds: z.record(z.string(), z.number().min(0)).default({}),
  })
  .strict()
  .prefault({});

const outputPin = z
  .object({
    pin: bcmPin,
    label: z.string().min(1).max(64).optional(),
    activeLow: z.boolean().default(false),
    /** Level the output is put in at start-up, on shutdown and (optionally) when ThingsBoard is lost. */
    safeState: z.union([z.literal(0), z.literal(1)]).default(0),
  })
  .strict();

const inputPin = z
  .object({
    pin: bcmPin,
    label: z.string().min(1).max(64).optional(),
    activeLow: z.boolean().default(false),
    debounceMs: int(0, 10_000).default(25),
    edge: z.enum(["rising", "falling", "both"]).default("both"),
  })
  .strict();

const deviceBase = {
  /** Local id: unique within this unit, used in the dashboard and state files. */
  id: z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/, { error: "expected 1-64 letters, digits, _ . or -" }),
  /** ThingsBoard device name. "{unit}" is replaced by the unit's identity. Default "{unit} {id}". */
  name: name.optional(),
  /** ThingsBoard device type (device profile). */
  profile: name.optional(),
  claim: z
    .object({ secretKey: z.string().max(255).default(""), durationMs: int(1, 7 * 24 * 3600_000).default(3600_000) })
    .strict()
    .optional(),
};

export const gpioDeviceSchema = z
  .object({
    ...deviceBase,
    kind: z.literal("gpio"),
    outputs: z.array(outputPin).default([]),
    inputs: z.array(inputPin).default([]),
    /** Put outputs in their safe state after this many seconds without ThingsBoard (0 = never). */
    safeStateAfterOfflineSec: int(0, 7 * 24 * 3600).default(0),
    /** How often each output may be switched, whatever the source (a relay must not chatter): a
     *  burst, then a steady rate. Refused commands are answered with a RATE_LIMITED error. */
    outputRateLimit: z
      .object({ burst: int(1, 1000).default(10), perSecond: z.number().positive().max(1000).default(5) })
      .strict()
      .prefault({}),
    report: reportSchema,
  })
  .strict();

export const I2C_SENSOR_CHIPS = ["bme280", "bmp280", "sht31", "sht4x", "bh1750", "ads1115", "ina219"] as const;
/** Sensors the kernel reads (1-Wire w1_therm, the dht11 IIO driver): no bus or address, options.pin is the overlay's GPIO. */
export const KERNEL_SENSOR_CHIPS = ["ds18b20", "dht22", "dht11"] as const;
export const SENSOR_CHIPS = [...I2C_SENSOR_CHIPS, ...KERNEL_SENSOR_CHIPS] as const;
export type I2cSensorChipName = (typeof I2C_SENSOR_CHIPS)[number];

export function isI2cSensorChip(chip: string): chip is I2cSensorChipName {
  return (I2C_SENSOR_CHIPS as readonly string[]).includes(chip);
}

export const sensorDeviceSchema = z
  .object({
    ...deviceBase,
    kind: z.literal("sensor"),
    chip: z.enum(SENSOR_CHIPS),
    bus: int(0, 31, "bus number").default(1),
    address: i2cAddress.optional(),
    intervalSec: z.number().min(0.1).max(86_400).default(10),
    /** Chip-specific options, e.g. ADS1115 {gain: 1, channels: [0,1]}, DS18B20 {romId: "28-..."}. */
    options: z.record(z.string(), z.unknown()).default({}),
    report: reportSchema,
  })
  .strict();

/** The header pins with a hardware PWM channel (BCM PWM0/1 on Pi 1-4, RP1 PWM0 on Pi 5). */
export const PWM_PINS = [12, 13, 18, 19] as const;

const pwmOutput = z
  .object({
    pin: z.union(
      PWM_PINS.map((p) => z.literal(p)),
      { error: "expected a hardware PWM pin: 12, 13, 18 or 19" },
    ),
    label: z.string().min(1).max(64).optional(),
    /** Default 1000 Hz, or 50 Hz for a servo. */
    frequencyHz: z.number().min(0.1).max(1_000_000).optional(),
    /** Duty cycle 0-1 at start-up, on shutdown and after safeStateAfterOfflineSec (duty mode). */
    safeDuty: z.number().min(0).max(1).default(0),
    /** Servo mode: the value is a pulse width in µs, kept within minUs-maxUs. */
    servo: z
      .object({
        minUs: z.number().min(100).max(10_000).default(1000),
        maxUs: z.number().min(100).max(10_000).default(2000),
        /** Pulse at start-up and shutdown; absent: no pulses (the servo goes limp). */
        safeUs: z.number().min(100).max(10_000).optional(),
      })
      .strict()
      .optional(),
  })
  .strict()
  .superRefine((o, ctx) => {
    if (!o.servo) return;
    if (o.servo.minUs >= o.servo.maxUs)
      ctx.addIssue({ code: "custom", path: ["servo", "maxUs"], message: "must be above minUs" });
    if (o.servo.safeUs !== undefined && (o.servo.safeUs < o.servo.minUs || o.servo.safeUs > o.servo.maxUs)) {
      ctx.addIssue({ code: "custom", path: ["servo", "safeUs"], message: "must be within minUs-maxUs" });
    }
    const periodUs = 1e6 / (o.frequencyHz ?? 50);
    if (o.servo.maxUs >= periodUs)
      ctx.addIssue({
        code: "custom",
        path: ["frequencyHz"],
        message: `a ${o.servo.maxUs} µs pulse does not fit a ${periodUs} µs period`,
      });
  });

export const pwmDeviceSchema = z
  .object({
    ...deviceBase,
    kind: z.literal("pwm"),
    outputs: z.array(pwmOutput).min(1, { error: "expected at least one output" }),
    /** Put outputs at their safe value after this many seconds without ThingsBoard (0 = never). */
    safeStateAfterOfflineSec: int(0, 7 * 24 * 3600).default(0),
    report: reportSchema,
  })
  .strict();

export const deviceSchema = z.discriminatedUnion("kind", [gpioDeviceSchema, sensorDeviceSchema, pwmDeviceSchema], {
  error: 'expected a device with kind "gpio", "sensor" or "pwm"',
});

/**
 * Marks the REPLACE_WITH_... values of config.example.yaml and the installer's template as
 * errors that say what belongs there, so an unedited config never starts (issue 18).
 */
export const PLACEHOLDER_PREFIX = "REPLACE_WITH_";
function notPlaceholder<T extends z.ZodString>(s: T, what: string) {
  return s.refine((v) => !v.startsWith(PLACEHOLDER_PREFIX), {
    error: `still the placeholder from the example config: put ${what} here`,
  });
}
const MISSING_THINGSBOARD =
  "missing: add a thingsboard section with the server's host and the gateway device's accessToken (see config.example.yaml); there is no default server";
const NO_CREDENTIALS =
  "no credentials: set accessToken (or TB_ACCESS_TOKEN) to the gateway device's access token, or username/password, or tls.certFile/keyFile (X.509), or provision {key, secret}";

const rateLimit = z
  .string()
  .regex(/^\d+:\d+(,\d+:\d+)*$/, { error: 'expected "capacity:seconds[,capacity:seconds...]", e.g. "10:1,300:60"' });

export const configSchema = z
  .object({
    version: z.literal(1).default(1),
    unit: z
      .object({
        /** Identity of this Pi in device names; default: the Pi serial number, else the hostname. */
        name: z
          .string()
          .regex(/^[A-Za-z0-9_.-]{1,64}$/)
          .optional(),
      })
      .strict()
      .prefault({}),
    hardware: z.enum(["sim", "pi", "auto"]).default("auto"),
    thingsboard: z
      .object(
        {
          host: notPlaceholder(
            z.string({ error: "expected the ThingsBoard server's host name or IP address" }).min(1),
            "the ThingsBoard server's host name or IP address",
          ),
          port: int(1, 65535, "port").default(1883),
          mqttVersion: z.union([z.literal(5), z.literal(4)]).default(5),
          accessToken: notPlaceholder(
            z.string().min(1),
            "the gateway device's access token (ThingsBoard: Devices > the gateway device > Copy access token)",
          ).optional(),
          clientId: z.string().min(1).optional(),
          username: z.string().min(1).optional(),
          password: z.string().min(1).optional(),
          tls: z
            .object({
              enabled: z.boolean().default(false),
              caFile: z.string().optional(),
              certFile: z.string().optional(),
              keyFile: z.string().optional(),
              rejectUnauthorized: z.boolean().default(true),
            })
            .strict()
            .prefault({}),
          provision: z
            .object({ key: z.string().min(1), secret: z.string().min(1), deviceName: name.optional() })
            .strict()
            .optional(),
          keepaliveSec: int(5, 3600).default(60),
          /** Readings from all devices are coalesced into one publish per flush. */
          flushIntervalMs: int(1, 60_000).default(100),
          /** Upper bound on one publish; the server's session limits lower it further. */
          maxPayloadBytes: int(1024, 64 * 1024 * 1024).default(65536),
          /** Largest packet accepted from ThingsBoard; a bigger RPC/attribute update is dropped unread and counted (issue 12). */
          maxInboundBytes: int(4096, 64 * 1024 * 1024).default(1024 * 1024),
          maxInflight: int(1, 1000).default(50),
          rateLimits: z
            .object({ messages: rateLimit.optional(), dataPoints: rateLimit.optional() })
            .strict()
            .prefault({}),
          reconnectMinMs: int(100, 600_000).default(1000),
          reconnectMaxMs: int(1000, 3_600_000).default(60_000),
          attributeRequestTimeoutMs: int(100, 600_000).default(20_000),
        },
        // No default server: a config without this section used to connect to localhost without
        // credentials, as if that were a deployment (issue 18).
        { error: (iss) => (iss.input === undefined ? MISSING_THINGSBOARD : undefined) },
      )
      .strict()
      .refine((tb) => Boolean(tb.accessToken ?? tb.username ?? tb.clientId ?? tb.tls.certFile ?? tb.provision), {
        error: NO_CREDENTIALS,
      }),
    http: z
      .object({ port: int(0, 65535, "port").default(8080), host: z.string().default("0.0.0.0") })
      .strict()
      .prefault({}),
    dashboard: z
      .object({
        /** Plain password (hashed at start-up, never stored); prefer passwordHash. */
        password: z.string().min(8, { error: "at least 8 characters" }).optional(),
        /** scrypt hash as written by `npm run hash-password`. */
        passwordHash: z.string().optional(),
        viewerPassword: z.string().min(8, { error: "at least 8 characters" }).optional(),
        sessionTtlHours: z
          .number()
          .positive()
          .max(24 * 365)
          .default(12),
        /** Extra allowed Origins for socket.io (the page's own origin is always allowed). */
        allowedOrigins: z.array(z.string().url()).default([]),
        /** Host names (or addresses) the dashboard may be reached by besides localhost and the
         *  unit's own names and addresses: a DNS name, a port forward (DNS rebinding guard). */
        allowedHosts: z.array(z.string().trim().min(1).max(253)).default([]),
      })
      .strict()
      .prefault({}),
    dataDir: z.string().min(1).default("./data"),
    log: z
      .object({ level: z.enum(["debug", "info", "warn", "error"]).default("info") })
      .strict()
      .prefault({}),
    outbox: z
      .object({
        /** The most of the newest readings a power cut can take: the reading buffer
         *  (thingsboard.flushIntervalMs) and the outbox's disk writes share it (outbox/flushBudget.ts). */
        diskFlushMs: int(50, 60_000).default(1000),
        maxDiskMb: z.number().positive().max(100_000).default(256),
        /** Messages kept in memory before the backlog spills to disk. */
        memoryMaxMessages: int(10, 1_000_000).default(2000),
      })
      .strict()
      .prefault({}),
    gateway: z
      .object({
        statsPeriodSec: z.number().min(1).max(86_400).default(60),
        allowReboot: z.boolean().default(false),
        remoteLogLevel: z.enum(["off", "debug", "info", "warn", "error"]).default("warn"),
        /** A GPIO input that opens the claim window when held. */
        claimButton: z
          .object({
            pin: bcmPin,
            holdSec: z.number().min(0.5).max(60).default(5),
            activeLow: z.boolean().default(true),
          })
          .strict()
          .optional(),
        /** Over-the-air updates of the appliance from ThingsBoard (issue 16, server/features/ota). */
        ota: z
          .object({
            enabled: z.boolean().default(true),
            /** Bytes per chunk request; capped at the session's maxPayloadSize (getSessionLimits). */
            chunkBytes: int(512, 1_048_576).default(32_768),
            chunkTimeoutSec: z.number().min(1).max(600).default(30),
            /** A new release must be connected with its devices running within this, or it is rolled back. */
            healthDeadlineSec: z.number().min(10).max(3600).default(180),
            /** The largest package an admin may upload on the dashboard (a release is a few tens of MB). */
            maxUploadMb: int(1, 4096).default(200),
            /** The most an upload may take: a whole package over a slow Wi-Fi link. */
            uploadTimeoutSec: int(30, 7200).default(900),
          })
          .strict()
          .prefault({}),
      })
      .strict()
      .prefault({}),
    devices: z.array(deviceSchema).default([]),
  })
  .strict();

export type Config = z.infer<typeof configSchema>;
export type ConfigInput = z.input<typeof configSchema>;
export type DeviceConfig = z.infer<typeof deviceSchema>;
export type GpioDeviceConfig = z.infer<typeof gpioDeviceSchema>;
export type SensorDeviceConfig = z.infer<typeof sensorDeviceSchema>;
export type PwmDeviceConfig = z.infer<typeof pwmDeviceSchema>;
export type ReportConfig = z.infer<typeof reportSchema>;

/**
 * Default I2C address per chip (datasheets: BME280/BMP280 SDO low 0x76, SHT31 ADDR low 0x44,
 * SHT40-AD1B 0x44, BH1750 ADDR low 0x23, ADS1115 ADDR->GND 0x48, INA219 A0=A1=GND 0x40).
 */
export const DEFAULT_ADDRESS: Record<I2cSensorChipName, number> = {
  bme280: 0x76,
  bmp280: 0x76,
  sht31: 0x44,
  sht4x: 0x44,
  bh1750: 0x23,
  ads1115: 0x48,
  ina219: 0x40,
};
