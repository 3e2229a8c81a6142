// The ADS1115 on i2c-stub: its register image written as SMBus words (ads1115Image.ts says why
// words), and the check that the installed appliance reads it through i2c-bus and /dev/i2c-N and
// the emulator receives the volts the image encodes. The INA219 has no such check: its driver's
// reset check needs a chip that clears RST, which a static image cannot (stubImages.test.ts).
import * as app from "./appliance.ts";
import { ADS1115_ADDRESS, ads1115WordImage, CONVERSION_CODE, expectedAds1115Volts } from "./ads1115Image.ts";
import { assert } from "./harness.ts";
import * as k from "./kernelSims.ts";
import { TCG, untilTelemetry, type Rig } from "./rig.ts";

export const ADS1115_I2C =
  "i2c-bus reads the ADS1115 register image on i2c-stub; the emulator gets the values it encodes";

const swap16 = (w: number): number => ((w & 0xff) << 8) | (w >> 8);

/** Writes the image with `i2cset ... w` and reads every word back with `i2cget ... w`. */
export async function writeAds1115Image(bus: number): Promise<string> {
  const image = ads1115WordImage();
  await k.writeI2cImage(bus, ADS1115_ADDRESS, image, "w");
  for (const [reg, word] of image) {
    const got = await k.readI2cWord(bus, ADS1115_ADDRESS, reg);
    assert(
      got === word,
      `ADS1115 register 0x${reg.toString(16)} reads back 0x${got.toString(16)}, wrote 0x${word.toString(16)}`,
    );
  }
  return `ADS1115 at 0x${ADS1115_ADDRESS.toString(16)}, ${image.size} registers written as SMBus words`;
}

export async function ads1115Check(rig: Rig, needs: string[]): Promise<void> {
  const { checks, emu, bus } = rig;
  await checks.run(
    ADS1115_I2C,
    async () => {
      const want = expectedAds1115Volts();
      const keys = Object.keys(want);
      const rec = await untilTelemetry(
        emu,
        app.ANALOG_DEVICE,
        keys[0]!,
        "an ADS1115 reading",
        90_000 * TCG,
        (v) => typeof v === "number",
      );
      const all = emu.telemetry(app.ANALOG_DEVICE).find((r) => r.ts === rec.ts) ?? rec;
      // The driver rounds to 1 µV; one code at ±4.096 V is 125 µV.
      const bad = keys.filter((key) => {
        const v = all.values[key];
        return typeof v !== "number" || Math.abs(v - want[key]!) > 1e-6;
      });
      assert(bad.length === 0, `got ${JSON.stringify(all.values)}, the datasheet gives ${JSON.stringify(want)}`);
      // The driver's config writes reached the stub as words: the register no longer holds the
      // image's power-on 0x8583 but a single-shot config for AIN0 or AIN3 vs GND at ±4.096 V.
      const config = swap16(await k.readI2cWord(bus, ADS1115_ADDRESS, 0x01));
      const mux = (config >> 12) & 0x07;
      const pga = (config >> 9) & 0x07;
      assert(
        (mux === 0b100 || mux === 0b111) && pga === 0b001 && (config & 0x0100) !== 0,
        `config register holds 0x${config.toString(16)}, not a single-shot AIN0/AIN3 config the driver wrote`,
      );
      const got = keys.map((key) => `${key} ${String(all.values[key])} V`).join(", ");
      return `/dev/i2c-${bus}: ${got} (datasheet: code ${CONVERSION_CODE} x 4.096 V / 2^15 = ${want[keys[0]!]} V); the driver's last config 0x${config.toString(16)} is in the stub`;
    },
    needs,
  );
}
