// Child of onoffContract.test.ts, run with `node --test` inside a private mount namespace where a
// fake Pi 4 (kernel 6.6: pinctrl-bcm2711 at base 512) gpio class tree is bound at
// /sys/class/gpio: the shared GpioChip contract against the real onoff through openGpioChip("pi").
// fakeGpioKernel.ts plays the kernel's export, direction and active_low; the outside world
// (a button, a meter on an output) reads and drives the value files as the lines' levels.
import { openGpioChip } from "../../../drivers/gpio/index.ts";
import { listSysfsChips } from "../../../drivers/gpio/sysfsMap.ts";
import { describeGpioContract } from "./contract.ts";
import { installFakeGpioKernel } from "./fakeGpioKernel.ts";

const ROOT = "/sys/class/gpio";
const kernel = installFakeGpioKernel(ROOT, await listSysfsChips(ROOT));

describeGpioContract(
  "OnoffGpioChip on a fake sysfs",
  async () => {
    const chip = await openGpioChip("pi");
    const n = (pin: number) => chip.info.base + pin;
    return {
      chip,
      setInput: (pin, level) => kernel.setLevel(n(pin), level),
      bounce: () => Promise.reject(new Error("no edge interrupts on a fake sysfs")),
      level: (pin) => kernel.level(n(pin)),
    };
  },
  {
    noEdgeInterrupts:
      "onoff's epoll(EPOLLPRI) needs a real sysfs attribute; the virtual Pi (npm run test:vm) delivers real edges",
  },
);
