// Fault test 1, outage: the whole appliance in-process, a test-side producer emitting 200
// readings/s over two devices, and ThingsBoard gone (listener closed, connections cut) for 3 s.
// Every reading produced before, during and after the outage must arrive, in order per device,
// with the ts it was produced with. Duplicates are allowed only as at-least-once redelivery:
// a copy must come over a later session than the first one.
import { test } from "node:test";
import assert from "node:assert/strict";
import type { Emulator } from "../../scripts/emulator/index.ts";
import {
  analyse,
  ArrivalRecorder,
  SeqProducer,
  summary,
  emulatorAndApp,
  type AppHarness,
} from "../fakes/appHarness.ts";
import { until } from "../fakes/waitFor.ts";

const DEVICES = ["Seq A", "Seq B"];

let emu: Emulator;
let app: AppHarness;
emulatorAndApp("rel-outage-", { httpPort: null }, (e, a) => {
  emu = e;
  app = a;
});

test(
  "a 3 s outage loses nothing: every reading arrives once connected again, in order, with its ts",
  { timeout: 30_000 },
  async () => {
    const rec = new ArrivalRecorder();
    rec.attach(emu);
    const producer = new SeqProducer(app.controller.bus, DEVICES, 200);
    producer.start();
    await until(() => rec.distinct() >= 200, "first second of readings delivered", 5000);

    const readyBefore = app.readyCount();
    await emu.pause();
    const atPause = producer.count;
    await until(() => app.controller.connection?.status().state !== "connected", "appliance noticed the outage", 5000);
    await new Promise((r) => setTimeout(r, 3000));
    const duringOutage = producer.count - atPause;
    const outbox = app.controller.outbox?.status();
    assert.ok(
      outbox && outbox.queued > 0 && outbox.onDisk > 0,
      `backlog queued and on disk during the outage (${JSON.stringify(outbox)})`,
    );
    await emu.resume();
    await app.ready(readyBefore + 1, 10_000);

    // Keep producing a little after the outage, then let everything drain.
    await new Promise((r) => setTimeout(r, 500));
    producer.stop();
    await until(() => rec.distinct() >= producer.count, `all ${producer.count} readings delivered`, 15_000).catch(
      () => {},
    );

    const r = analyse(producer.produced, rec.arrivals);
    summary(
      "outage 3s @200/s",
      r,
      `during_outage=${duringOutage} reconnects=${app.controller.connection?.status().reconnects}`,
    );
    assert.equal(r.lost, 0, `lost seqs (first 20): ${r.lostSeqs.join(",")}`);
    assert.deepEqual(r.outOfOrder, [], "first arrivals are in seq order per device");
    assert.equal(r.wrongTs, 0, "every reading keeps the ts it was produced with");
    assert.equal(r.sameSessionDuplicates, 0, "no reading is delivered twice over one session");
    assert.ok(duringOutage >= 400, `the producer kept producing during the outage (${duringOutage})`);
    await until(() => app.controller.outbox?.status().queued === 0, "outbox empty after the drain", 5000);
  },
);
