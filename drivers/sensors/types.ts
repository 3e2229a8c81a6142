// The sensor interface: a sensor is opened on a bus at an address, initialised (chip id check,
// reset, calibration), then read. Values are plain numbers keyed by telemetry key.

export interface SensorReading {
  /** Telemetry key -> value, e.g. {temperature: 21.53, humidity: 45.1, pressure: 1013.2}. */
  values: Record<string, number>;
  /** When the measurement was taken (ms since epoch). */
  ts: number;
}

export interface Sensor {
  /** Chip model name, e.g. "bme280". */
  readonly chip: string;
  /** I2C address; absent for sensors the kernel reads (1-Wire, IIO). */
  readonly address?: number;
  /** Units per telemetry key, for the dashboard. */
  readonly units: Record<string, string>;
  /**
   * What identifies this very chip, when it can tell: the SHT4x serial number, the DS18B20 ROM id.
   * Reported once as a client attribute, so a swapped part shows in ThingsBoard.
   */
  readonly serialNumber?: string;
  read(): Promise<SensorReading>;
  close(): Promise<void>;
}

/**
 * A sensor read that failed for a reason worth telling apart (CRC, absent chip, garbage; RANGE: the
 * chip says the quantity is outside what it can measure, e.g. the INA219 overflow flag).
 */
export class SensorError extends Error {
  readonly code: "ABSENT" | "CRC" | "BAD_DATA" | "TIMEOUT" | "IO" | "RANGE";
  constructor(code: SensorError["code"], message: string) {
    super(message);
    this.name = "SensorError";
    this.code = code;
  }
}
