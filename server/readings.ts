// What devices produce, in the domain's own terms: a value, a set of named values, and a set taken
// at one time. The bus and the device layer use these; the gateway bridge maps them to ThingsBoard's
// wire shapes (gateway/protocol.ts: TbValue, KeyValues, TsRecord, which are these same shapes).

/** One measured or reported value: what ThingsBoard can keep as telemetry or an attribute. */
export type ReadingValue = string | number | boolean | { [k: string]: unknown } | unknown[];
/** Values by key (temperature, relay1, ...). */
export type ReadingValues = Record<string, ReadingValue>;
/** Values taken at one time (ms since the epoch). */
export interface Reading {
  ts: number;
  values: ReadingValues;
}
