// One throughput case on its own, for profiling the bridge's hot path:
//   node --import tsx --cpu-prof --cpu-prof-dir=/tmp/prof scripts/bench/profileThroughput.ts 500
// (the profile covers this process only: bridge, outbox, MQTT.js and the simulated devices; the
// emulator runs in its child). Prints one JSON line with the same figures as the scenario.
import { measureThroughput } from "./throughput.ts";

const devices = Number(process.argv[2] ?? 500);
const measureMs = Number(process.argv[3] ?? 5000);
if (!Number.isInteger(devices) || devices < 1 || !(measureMs > 0))
  throw new Error("usage: profileThroughput.ts [devices] [measureMs]");
const r = await measureThroughput(devices, 1000, measureMs);
process.stdout.write(
  `${JSON.stringify({
    devices,
    ackedPerSec: Math.round(r.ackedPerSec),
    barePerSec: Math.round(r.bare.pointsPerSec),
    ratio: Number((r.ackedPerSec / r.bare.pointsPerSec).toFixed(3)),
    bridgeCpuPer100k: Number(r.bridgeCpuPer100k.toFixed(4)),
    bareCpuPer100k: Number(r.bare.cpuSecPer100k.toFixed(4)),
    emulatorCpuPer100k: Number(r.emulatorCpuPer100k.toFixed(4)),
  })}\n`,
);
