// Publishes large messages from a child process, so that the publisher's own buffers (MQTT.js
// copies a payload it sends) are not counted in the memory of the test process, whose RSS is
// the gateway's. Each message is `{prefix}{filler}{suffix}`, `bytes` long, built in the child;
// or a flood of small ones from a template.
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";

export interface BigMessage {
  topic: string;
  bytes: number;
  prefix?: string;
  suffix?: string;
}

/** `count` messages `template` with %ID% replaced by 1..count, published back to back (a flood). */
export interface FloodMessages {
  topic: string;
  template: string;
  count: number;
}

const ROOT = fileURLToPath(new URL("../../", import.meta.url));

const CHILD = `
import mqtt from "mqtt";
const [port, json] = process.argv.slice(1);
const messages = JSON.parse(json);
const client = await mqtt.connectAsync({ host: "127.0.0.1", port: Number(port), protocolVersion: 4, clientId: "big-publisher", writeCache: false });
for (const m of messages) {
  if (m.template) {
    const all = [];
    for (let i = 1; i <= m.count; i++) all.push(client.publishAsync(m.topic, m.template.replaceAll("%ID%", String(i)), { qos: 1 }));
    await Promise.all(all);
    continue;
  }
  const buf = Buffer.alloc(m.bytes, 0x78);
  buf.write(m.prefix ?? "", 0);
  if (m.suffix) buf.write(m.suffix, m.bytes - Buffer.byteLength(m.suffix));
  await client.publishAsync(m.topic, buf, { qos: 1 });
}
await client.endAsync();
`;

/** Resolves once the broker has acknowledged every message (QoS 1), in order. */
export function publishFromChild(
  port: number,
  messages: Array<BigMessage | FloodMessages>,
  timeoutMs = 60_000,
): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      ["--input-type=module", "-e", CHILD, String(port), JSON.stringify(messages)],
      { cwd: ROOT, stdio: ["ignore", "ignore", "pipe"] },
    );
    let stderr = "";
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()).slice(-2000));
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    child.on("exit", (code, signal) => {
      clearTimeout(timer);
      if (code === 0) resolve();
      else reject(new Error(`publisher exited ${code ?? signal}: ${stderr.trim()}`));
    });
  });
}
