// The PWM interface: a controller hands out one output per header pin that has a hardware PWM
// channel (GPIO 12/13/18/19); an output takes a period and a duty time in nanoseconds, the units
// of the kernel's sysfs PWM ABI (Documentation/ABI/testing/sysfs-class-pwm).

export interface PwmOutput {
  readonly pin: number;
  /** The channel on the chip (pwmN under pwmchipM). */
  readonly channel: number;
  /** Sets period and duty time (ns), in the order the kernel accepts (duty never above period). */
  set(periodNs: number, dutyNs: number): Promise<void>;
  /** Starts or stops the output; stopped, the pin idles at its inactive level. */
  enable(on: boolean): Promise<void>;
  /** Stops the output and gives the channel back (unexport). */
  close(): Promise<void>;
}

export interface PwmController {
  /** "pwmchip2 (1f00098000.pwm, 4 channels)": what the log and errors name. */
  readonly description: string;
  /** The header pins this chip can drive. */
  readonly pins: readonly number[];
  open(pin: number): Promise<PwmOutput>;
  close(): Promise<void>;
}
