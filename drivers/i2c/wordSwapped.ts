// 16-bit big-endian registers behind an 8-bit register pointer (TI ADS1115, INA219, Microchip
// MCP9808), read and written with SMBus word transfers and the two bytes swapped, as the
// kernel's i2c_smbus_read_word_swapped / i2c_smbus_write_word_swapped (include/linux/i2c.h) do.
//
// Why SMBus words and not 2-byte I2C-block transfers:
//   - On the wire they are the same transaction: SMBus "read word" is S addr+W cmd Sr addr+R
//     byte0 byte1 P, and i2c_smbus_xfer_emulated (drivers/i2c/i2c-core-smbus.c) turns it into
//     exactly the write [cmd] + read 2 that a block read or a plain register read sends. Only the
//     meaning of the bytes differs: SMBus words are LSB first, these chips send the MSB first.
//   - The word is what every adapter that can reach these chips carries. Linux's own drivers
//     (drivers/iio/adc/ti-ads1015.c, drivers/hwmon/ina2xx.c) declare regmap reg_bits 8 /
//     val_bits 16; regmap_get_i2c_bus (drivers/base/regmap/regmap-i2c.c) sends plain I2C
//     messages where the adapter has I2C_FUNC_I2C and otherwise regmap_smbus_word_swapped when
//     it has I2C_FUNC_SMBUS_WORD_DATA (big-endian values). From user space we only have the
//     SMBus ioctl or raw messages, and SMBus words are the form both kinds of adapter take.
//   - i2c-stub (drivers/i2c/busses/i2c-stub.c), the virtual Pi's bus, is an SMBus-only adapter
//     that keeps one 16-bit word per register for word transfers but serves block transfers from
//     the low byte of consecutive registers, so 16-bit registers only exist there as words.
//
// Adapters: the Pi's i2c-bcm2835 reports I2C_FUNC_I2C | I2C_FUNC_SMBUS_EMUL, and SMBUS_EMUL
// includes I2C_FUNC_SMBUS_WORD_DATA (include/uapi/linux/i2c.h), so the core emulates the word
// with the two messages above; every adapter with plain I2C gets the same emulation. An
// SMBus-only adapter without word support (i2c-stub has it) fails the transfer in
// __i2c_smbus_xfer with the adapter's error, normally EOPNOTSUPP; i2c-bus rejects with that errno
// and the sensor reports a SensorError IO naming it on every read: no value is made up.
import type { I2cBus } from "./types.ts";

/** Swaps the two bytes of a 16-bit word (the kernel's swab16). */
export function swapBytes16(word: number): number {
  return ((word & 0xff) << 8) | ((word >> 8) & 0xff);
}

/** Reads a big-endian 16-bit register: an SMBus read word, bytes swapped. */
export async function readWordSwapped(bus: I2cBus, address: number, reg: number): Promise<number> {
  return swapBytes16(await bus.readWord(address, reg));
}

/** Writes a big-endian 16-bit register: an SMBus write word (write [reg, MSB, LSB] on the wire). */
export async function writeWordSwapped(bus: I2cBus, address: number, reg: number, value: number): Promise<void> {
  await bus.writeWord(address, reg, swapBytes16(value & 0xffff));
}
