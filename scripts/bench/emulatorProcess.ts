// Parent side of the emulator child: start it, ask it for counts, drive RPC load, stop it.
import { fork, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";
import type {
  ChildEmulatorOptions,
  ChildReply,
  ChildRequest,
  DeliveryCounts,
  RpcLoadResult,
} from "./emulatorProtocol.ts";

const CHILD = fileURLToPath(new URL("./emulatorChild.ts", import.meta.url));
export const BENCH_GATEWAY_TOKEN = "bench-gateway-token";

type Req = ChildRequest extends infer R ? (R extends { id: number } ? Omit<R, "id"> : never) : never;

export class EmulatorProcess {
  readonly mqttPort: number;
  readonly httpPort: number | null;
  readonly pid: number;
  #child: ChildProcess;
  #call: (req: Req, timeoutMs?: number) => Promise<unknown>;

  private constructor(
    child: ChildProcess,
    call: (req: Req, timeoutMs?: number) => Promise<unknown>,
    ports: { mqttPort: number; httpPort: number | null },
  ) {
    this.#child = child;
    this.#call = call;
    this.mqttPort = ports.mqttPort;
    this.httpPort = ports.httpPort;
    this.pid = child.pid ?? -1;
  }

  static async start(options: ChildEmulatorOptions = {}): Promise<EmulatorProcess> {
    const child = fork(CHILD, [], { execArgv: ["--import", "tsx"], stdio: ["ignore", "inherit", "inherit", "ipc"] });
    const waiting = new Map<
      number,
      { resolve: (v: unknown) => void; reject: (e: Error) => void; timer: NodeJS.Timeout }
    >();
    let nextId = 1;
    let readyResolve: () => void = () => {};
    const ready = new Promise<void>((r) => (readyResolve = r));
    child.on("message", (raw: unknown) => {
      const m = raw as ChildReply;
      if (m.id === 0) return readyResolve();
      const w = waiting.get(m.id);
      if (!w) return;
      waiting.delete(m.id);
      clearTimeout(w.timer);
      if (m.ok) w.resolve(m.value);
      else w.reject(new Error(`emulator child: ${m.error}`));
    });
    child.on("exit", (code) => {
      for (const w of waiting.values()) {
        clearTimeout(w.timer);
        w.reject(new Error(`emulator child exited (${String(code)})`));
      }
      waiting.clear();
    });
    const call = (req: Req, timeoutMs = 120_000): Promise<unknown> =>
      new Promise((resolve, reject) => {
        const id = nextId++;
        const timer = setTimeout(() => {
          waiting.delete(id);
          reject(new Error(`emulator child did not answer ${req.op} within ${timeoutMs} ms`));
        }, timeoutMs);
        waiting.set(id, { resolve, reject, timer });
        child.send({ ...req, id });
      });
    const startup = setTimeout(() => child.kill("SIGKILL"), 30_000);
    await ready;
    clearTimeout(startup);
    const opts: ChildEmulatorOptions = {
      gateways: [{ name: "Bench Gateway", accessToken: BENCH_GATEWAY_TOKEN }],
      httpPort: null,
      ...options,
    };
    const ports = (await call({ op: "start", options: opts })) as { mqttPort: number; httpPort: number | null };
    return new EmulatorProcess(child, call, ports);
  }

  counts(): Promise<DeliveryCounts> {
    return this.#call({ op: "counts" }) as Promise<DeliveryCounts>;
  }

  rpcSequential(device: string, method: string, params: unknown, n: number, timeoutMs = 5000): Promise<RpcLoadResult> {
    return this.#call({ op: "rpcSequential", device, method, params, n, timeoutMs }) as Promise<RpcLoadResult>;
  }

  rpcConcurrent(
    device: string,
    method: string,
    params: unknown,
    n: number,
    inFlight: number,
    timeoutMs = 10_000,
  ): Promise<RpcLoadResult> {
    return this.#call({
      op: "rpcConcurrent",
      device,
      method,
      params,
      n,
      inFlight,
      timeoutMs,
    }) as Promise<RpcLoadResult>;
  }

  async pause(): Promise<void> {
    await this.#call({ op: "pause" });
  }

  async resume(): Promise<void> {
    await this.#call({ op: "resume" });
  }

  async stop(): Promise<void> {
    if (this.#child.exitCode !== null) return;
    const exited = new Promise<void>((r) => this.#child.once("exit", () => r()));
    await this.#call({ op: "stop" }, 10_000).catch(() => this.#child.kill("SIGKILL"));
    const t = setTimeout(() => this.#child.kill("SIGKILL"), 5000);
    await exited;
    clearTimeout(t);
  }
}
