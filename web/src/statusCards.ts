// The three status cards: ThingsBoard connection, outbox, the appliance itself.
import type { AppInfo, ConnectionStatus, OutboxStatus, UpdateStatus } from "../../server/events.ts";
import { updateText } from "./updateText.ts";
import { showUpdateUpload } from "./updateUpload.ts";
import { byTestId, setText, show } from "./dom.ts";
import { ago, bytes, duration, until } from "./format.ts";

const STATE_TEXT: Record<ConnectionStatus["state"], string> = {
  connecting: "connecting",
  connected: "online",
  backoff: "offline",
  authFailed: "auth failed",
  stopped: "stopped",
};

export function renderConnection(c: ConnectionStatus, now = Date.now()): void {
  const badge = byTestId("conn-state");
  badge.textContent = STATE_TEXT[c.state] ?? c.state;
  badge.dataset["state"] = c.state;
  setText("conn-since", `since ${ago(c.since, now).replace(/ ago$/, "")}`);
  setText("conn-server", c.server);
  setText("conn-mqtt", c.mqttVersion === 5 ? "5.0" : "3.1.1");
  setText("conn-reconnects", String(c.reconnects));
  setText("conn-retry", c.state === "backoff" && c.nextRetryAt ? until(c.nextRetryAt, now) : "–");
  setText("conn-error", c.lastError ?? "–");
}

export function renderOutbox(o: OutboxStatus | null, now = Date.now()): void {
  if (!o) {
    setText("outbox-queued", "–");
    return;
  }
  setText("outbox-queued", String(o.queued));
  setText("outbox-disk", `${o.onDisk} (${bytes(o.diskBytes)})`);
  setText("outbox-points", String(o.points));
  setText("outbox-oldest", o.oldestTs === null ? "–" : ago(o.oldestTs, now));
  setText("outbox-dropped", String(o.dropped));
  setText("outbox-deadletters", String(o.deadLetters ?? 0));
  show(byTestId("outbox-diskfull"), o.diskFull);
}

export function renderApp(a: AppInfo, now = Date.now()): void {
  setText("unit-name", a.unit);
  setText("app-version", a.version);
  setText("app-unit", a.unit === a.hostname ? a.unit : `${a.unit} (${a.hostname})`);
  // uptimeSec is as of the snapshot; startedAt lets it keep ticking between snapshots.
  setText("app-uptime", duration(Math.max(a.uptimeSec, (now - a.startedAt) / 1000)));
  setText("app-cpu", a.cpuTempC === null ? "–" : `${a.cpuTempC.toFixed(1)} °C`);
  const m = a.memory;
  setText("app-memory", `${bytes(m.totalBytes - m.freeBytes)} / ${bytes(m.totalBytes)} (process ${bytes(m.rssBytes)})`);
  setText("app-disk", a.disk ? `${bytes(a.disk.freeBytes)} free of ${bytes(a.disk.totalBytes)}` : "–");
  setText("app-hardware", a.hardware === "pi" ? "Raspberry Pi" : "simulated");
}

export function renderUpdate(u: UpdateStatus | null | undefined): void {
  const t = updateText(u);
  setText("app-update", t.now);
  setText("app-update-last", t.last);
  showUpdateUpload(u);
}
