// The payload builder alone, on the throughput scenario's records (4 BME280-like values per
// record, round-robin over the devices, one ts per flush): M points/s encoded into messages.
//   node --import tsx scripts/bench/builderMicro.ts [devices] [module]
// `module` is another copy of payloadBuilder.ts (e.g. the previous commit's, written to a temp
// dir with its imports) to compare before/after in one process type.
import { performance } from "node:perf_hooks";
import { pathToFileURL } from "node:url";
import type { BuiltMessage } from "../../server/gateway/payloadBuilder.ts";
import type { TsRecord } from "../../server/gateway/protocol.ts";

interface BuilderLike {
  telemetry(byDevice: Map<string, TsRecord[]>): BuiltMessage[];
}

const devices = Number(process.argv[2] ?? 500);
const modulePath = process.argv[3];
const mod = (await import(modulePath ? pathToFileURL(modulePath).href : "../../server/gateway/payloadBuilder.ts")) as {
  PayloadBuilder: new (maxBytes: number) => BuilderLike;
};

/** One 100 ms flush at about 2 M points/s: 50k records. */
function flushBatch(nDevices: number, records: number, round: number): Map<string, TsRecord[]> {
  const names = Array.from({ length: nDevices }, (_, i) => `bench-dev-${String(i).padStart(3, "0")}`);
  const byDevice = new Map<string, TsRecord[]>();
  const ts = 1_764_000_000_000 + round * 100;
  for (let c = 0; c < records; c++) {
    const name = names[c % nDevices] as string;
    const v = ((c + round) % 1000) / 100;
    const rec: TsRecord = {
      ts,
      values: { temperature: 21 + v, humidity: 45 + v, pressure: 1013 + v, battery: 90 + (c % 10) },
    };
    const list = byDevice.get(name);
    if (list) list.push(rec);
    else byDevice.set(name, [rec]);
  }
  return byDevice;
}

const builder = new mod.PayloadBuilder(65536);
const batches = Array.from({ length: 8 }, (_, i) => flushBatch(devices, 50_000, i));
let sink = 0;
const rates: number[] = [];
for (let round = 0; round < 6; round++) {
  let points = 0;
  const t0 = performance.now();
  for (const b of batches)
    for (const m of builder.telemetry(b)) {
      points += m.points;
      sink += m.payload.length;
    }
  rates.push(points / (performance.now() - t0) / 1000);
}
// The first rounds warm the JIT up.
const steady = rates.slice(2).sort((a, b) => a - b);
process.stdout.write(
  `${modulePath ?? "current"}: ${devices} devices, median ${(steady[Math.floor(steady.length / 2)] ?? 0).toFixed(2)} M points/s (${sink > 0 ? "ok" : "empty"})\n`,
);
