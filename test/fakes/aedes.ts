// An in-process Aedes broker on a loopback port 0. Aedes speaks MQTT 3.1.1 only and answers an
// MQTT 5 CONNECT with "unacceptable protocol version", which is what an old broker does.
import { createServer, type Server, type Socket } from "node:net";
import { Aedes, type AedesOptions } from "aedes";

export interface AedesBroker {
  port: number;
  broker: Aedes;
  stop(): Promise<void>;
}

export async function startAedes(options: AedesOptions = {}): Promise<AedesBroker> {
  const broker = await Aedes.createBroker(options);
  const sockets = new Set<Socket>();
  const server: Server = createServer((s) => {
    sockets.add(s);
    s.on("close", () => sockets.delete(s));
    broker.handle(s);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const a = server.address();
  const port = typeof a === "object" && a ? a.port : 0;
  return {
    port,
    broker,
    async stop() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => broker.close(() => resolve()));
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
