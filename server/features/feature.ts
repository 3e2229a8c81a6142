// The lifecycle every feature of the appliance has (as zigbee2mqtt's extensions do): built by the
// composition root with what it needs, started once, stopped once. Controller.start() registers
// each feature's stop() as it starts it, so stop() undoes them in reverse, even after a failed start.
export interface Feature {
  start(): void | Promise<void>;
  stop(): void | Promise<void>;
}
