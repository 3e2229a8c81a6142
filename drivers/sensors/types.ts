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
  readonly address: number;
  /** Units per telemetry key, for the dashboard. */
  readonly units: Record<string, string>;
  read(): Promise<SensorReading>;
  close(): Promise<void>;
}

/** A sensor read that failed for a reason worth telling apart (CRC, absent chip, garbage). */
export class SensorError extends Error {
  readonly code: "ABSENT" | "CRC" | "BAD_DATA" | "TIMEOUT" | "IO";
  constructor(code: SensorError["code"], message: string) {
    super(message);
    this.name = "SensorError";
    this.code = code;
  }
}
