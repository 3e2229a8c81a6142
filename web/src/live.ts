// The live connection: socket.io to the same origin (the session cookie rides along), a full
// snapshot on every (re)connect, then deltas. Renders through the views; holds no other state.
import { io, type Socket } from "socket.io-client";
import type { AppSnapshot, DeviceSnapshot, I2cScanEntry } from "../../server/events.ts";
import type {
  Ack,
  ClientToServerEvents,
  ControlRequest,
  Role,
  ServerToClientEvents,
} from "../../server/http/protocol.ts";
import type { DeviceHistory } from "../../server/history/historyRecorder.ts";
import type { HistoryRange } from "../../server/history/tiers.ts";
import { DeviceCard, structureKey } from "./deviceCard.ts";
import { byTestId, detached, setText } from "./dom.ts";
import { EventLogView } from "./eventLog.ts";
import { History, RANGES } from "./history.ts";
import { HeaderView } from "./headerView.ts";
import { DeviceForm, type DeviceEntry } from "./deviceForm.ts";
import { ClaimView, renderI2c } from "./panels.ts";
import { renderApp, renderConnection, renderOutbox, renderUpdate } from "./statusCards.ts";

type DashSocket = Socket<ServerToClientEvents, ClientToServerEvents>;

export interface LiveOptions {
  role: Role;
  /** The session is gone (logout elsewhere, expiry, restart): go back to the login page. */
  onSessionLost(): void;
}

const ACK_TIMEOUT_MS = 12_000;

export class LiveDashboard {
  #socket: DashSocket;
  #opts: LiveOptions;
  #snapshot: AppSnapshot | null = null;
  #cards = new Map<string, DeviceCard>();
  #history = new History();
  #events = new EventLogView();
  #claims = new ClaimView();
  #header = new HeaderView();
  #form: DeviceForm;
  #ticker: number;
  #errorTimer = 0;
  #cleanup: (() => void)[] = [];

  constructor(opts: LiveOptions) {
    this.#opts = opts;
    const s: DashSocket = io({ reconnectionDelayMax: 5000, timeout: 10_000 });
    this.#socket = s;
    this.#socketState("connecting");
    s.on("connect", () => this.#socketState("live"));
    s.on("disconnect", (reason) => {
      this.#socketState("offline");
      // The server only disconnects on purpose when the session ended (logout, expiry).
      if (reason === "io server disconnect") this.#opts.onSessionLost();
    });
    s.io.on("reconnect_attempt", () => this.#socketState("connecting"));
    s.on("connect_error", (err) => {
      this.#socketState("offline");
      if (err.message === "unauthorized") this.#opts.onSessionLost();
    });
    s.on("snapshot", (snap) => this.#applySnapshot(snap));
    s.on("device", (devices) => this.#applyDevices(devices));
    s.on("connection", (c) => {
      if (this.#snapshot) this.#snapshot.connection = c;
      renderConnection(c);
    });
    s.on("outbox", (o) => {
      if (this.#snapshot) this.#snapshot.outbox = o;
      renderOutbox(o);
    });
    s.on("event", (entries) => this.#events.add(entries));
    s.on("claim", (info) => this.#claims.add(info));
    s.on("i2c", (entries) => renderI2c(entries, this.#canAdd()));
    s.on("error", (message) => this.#showError(message));

    this.#wireButton("scan-button", () => this.#scan());
    this.#wireButton("claim-button", () => this.#claim());
    this.#form = new DeviceForm((entry, id) => this.#saveDevice(entry, id));
    this.#wireButton("add-gpio-button", async () => this.#form.open({ kind: "gpio" }));
    this.#wireButton("export-button", () => this.#export());
    this.#wireButton("export-close", async () => {
      byTestId("export-card").hidden = true;
    });
    for (const button of document.querySelectorAll<HTMLButtonElement>("[data-range]")) {
      const handler = () => this.#pickRange(button.dataset["range"] as HistoryRange);
      button.addEventListener("click", handler);
      this.#cleanup.push(() => button.removeEventListener("click", handler));
    }
    this.#markRange();
    // Canvas colours are fixed when a chart is drawn: redraw them when the system switches light/dark.
    const scheme = window.matchMedia("(prefers-color-scheme: dark)");
    const recolour = () => {
      for (const card of this.#cards.values()) card.redrawChart(true);
    };
    scheme.addEventListener("change", recolour);
    this.#cleanup.push(() => scheme.removeEventListener("change", recolour));
    this.#ticker = window.setInterval(() => this.#tick(), 1000);
  }

  #wireButton(testId: string, action: () => Promise<void>): void {
    const button = byTestId<HTMLButtonElement>(testId);
    const handler = () => {
      if (button.disabled) return;
      button.disabled = true;
      detached(
        testId,
        action().finally(() => {
          button.disabled = false;
        }),
      );
    };
    button.addEventListener("click", handler);
    this.#cleanup.push(() => button.removeEventListener("click", handler));
  }

  #socketState(state: "connecting" | "live" | "offline"): void {
    const pill = byTestId("socket-state");
    pill.dataset["state"] = state;
    pill.textContent = state;
  }

  #showError(message: string): void {
    const node = byTestId("control-error");
    node.textContent = message;
    node.hidden = false;
    window.clearTimeout(this.#errorTimer);
    this.#errorTimer = window.setTimeout(() => {
      node.hidden = true;
    }, 8000);
  }

  async #request<T>(send: (ack: (reply: Ack<T>) => void) => void): Promise<Ack<T>> {
    if (!this.#socket.connected) return { ok: false, error: "not connected to the appliance" };
    return new Promise((resolve) => {
      const timer = window.setTimeout(
        () => resolve({ ok: false, error: "no answer from the appliance" }),
        ACK_TIMEOUT_MS,
      );
      send((reply) => {
        window.clearTimeout(timer);
        resolve(reply);
      });
    });
  }

  control(req: ControlRequest): Promise<Ack> {
    return this.#request((ack) => this.#socket.emit("control", req, ack));
  }

  #markRange(): void {
    for (const b of document.querySelectorAll<HTMLElement>("[data-range]"))
      b.setAttribute("aria-pressed", String(b.dataset["range"] === this.#history.range));
  }

  #pickRange(range: HistoryRange): void {
    if (!Object.hasOwn(RANGES, range) || range === this.#history.range) return;
    this.#history.setRange(range);
    this.#markRange();
    for (const card of this.#cards.values()) card.redrawChart(true);
    detached("loading chart history", this.#loadHistory([...this.#cards.keys()]));
  }

  /** The appliance's stored history for these devices' charts (one request; cards without a chart are skipped). */
  async #loadHistory(ids: string[]): Promise<void> {
    const devices = ids.filter((id) => this.#cards.get(id)?.hasChart).slice(0, 100);
    if (devices.length === 0) return;
    const range = this.#history.range;
    const reply = await this.#request<DeviceHistory[]>((ack) => this.#socket.emit("history", { devices, range }, ack));
    if (!reply.ok) return this.#showError(`chart history: ${reply.error}`);
    for (const h of reply.data) {
      this.#history.load(h);
      this.#cards.get(h.device)?.redrawChart();
    }
  }

  /** Sends an add or edit; returns the appliance's error text, or null when it was applied. */
  async #saveDevice(entry: DeviceEntry, editingId: string | undefined): Promise<string | null> {
    const reply = editingId
      ? await this.#request<{ id: string }>((ack) =>
          this.#socket.emit("deviceUpdate", { id: editingId, device: entry }, ack),
        )
      : await this.#request<{ id: string }>((ack) => this.#socket.emit("deviceAdd", { device: entry }, ack));
    return reply.ok ? null : reply.error;
  }

  async #removeDevice(d: DeviceSnapshot): Promise<void> {
    if (
      !window.confirm(
        `Remove ${d.name}? It stops now, its outputs go to their safe state, and ThingsBoard is told it left this gateway.`,
      )
    )
      return;
    const reply = await this.#request<{ id: string }>((ack) => this.#socket.emit("deviceRemove", { id: d.id }, ack));
    if (!reply.ok) this.#showError(`${d.name}: ${reply.error}`);
  }

  async #export(): Promise<void> {
    const reply = await this.#request<string>((ack) => this.#socket.emit("devicesExport", ack));
    if (!reply.ok) return this.#showError(reply.error);
    setText("export-yaml", reply.data);
    byTestId("export-card").hidden = false;
  }

  #onScanAdd = (e: I2cScanEntry): void => this.#form.open({ kind: "sensor", chip: e });

  async #scan(): Promise<void> {
    setText("i2c-status", "Scanning…");
    const reply = await this.#request<I2cScanEntry[]>((ack) => this.#socket.emit("scan", ack));
    if (reply.ok) renderI2c(reply.data, this.#canAdd());
    else setText("i2c-status", reply.error);
  }

  async #claim(): Promise<void> {
    const reply = await this.#request<{ devices: string[]; until: number }>((ack) =>
      this.#socket.emit("claim", {}, ack),
    );
    if (reply.ok) for (const device of reply.data.devices) this.#claims.add({ device, until: reply.data.until });
    else this.#showError(reply.error);
  }

  #applySnapshot(snap: AppSnapshot): void {
    this.#snapshot = snap;
    renderApp(snap.app);
    renderUpdate(snap.update);
    renderConnection(snap.connection);
    renderOutbox(snap.outbox);
    this.#events.reset(snap.events);
    renderI2c(snap.i2c, this.#canAdd());
    byTestId("export-button").hidden = !snap.devices.some((d) => d.source === "page");
    this.#claims.setClaimable(snap.claimable ?? []);
    const seen = new Set<string>();
    const container = byTestId("devices");
    for (const d of snap.devices) {
      seen.add(d.id);
      this.#upsertCard(d, container);
    }
    for (const [id, card] of this.#cards) {
      if (seen.has(id)) continue;
      card.destroy();
      this.#cards.delete(id);
      this.#history.forget(id);
    }
    // Keep the server's order.
    for (const d of snap.devices) {
      const card = this.#cards.get(d.id);
      if (card) container.append(card.root);
    }
    this.#header.render(snap.header ?? [], snap.devices);
    // Every (re)connect: the appliance may have restarted, its stored history is the truth.
    detached("loading chart history", this.#loadHistory(snap.devices.map((d) => d.id)));
  }

  #applyDevices(devices: DeviceSnapshot[]): void {
    const container = byTestId("devices");
    const rebuilt: string[] = [];
    for (const d of devices) {
      if (this.#snapshot) {
        const i = this.#snapshot.devices.findIndex((x) => x.id === d.id);
        // A delta does not say where the device came from: keep what the snapshot said.
        const prev = this.#snapshot.devices[i];
        if (prev)
          this.#snapshot.devices[i] = {
            ...d,
            ...(prev.source ? { source: prev.source } : {}),
            ...(prev.pageConfig ? { pageConfig: prev.pageConfig } : {}),
          };
      }
      if (this.#upsertCard(d, container)) rebuilt.push(d.id);
    }
    if (rebuilt.length) detached("loading chart history", this.#loadHistory(rebuilt));
    if (this.#snapshot) this.#header.update(this.#snapshot.devices);
  }

  /** True when a card was (re)built (its chart then needs the stored history). */
  #canAdd(): ((e: I2cScanEntry) => void) | undefined {
    return this.#opts.role === "admin" ? this.#onScanAdd : undefined;
  }

  #upsertCard(d: DeviceSnapshot, container: HTMLElement): boolean {
    // Deltas do not say where a device came from; the last snapshot does.
    const fromPage = this.#snapshot?.devices.find((x) => x.id === d.id)?.source === "page";
    const card = this.#cards.get(d.id);
    if (card && card.structure === structureKey(d) && card.fromPage === fromPage) {
      card.update(d);
      return false;
    }
    const fresh = new DeviceCard(d, {
      canControl: this.#opts.role === "admin",
      control: (req) => this.control(req),
      onError: (m) => this.#showError(m),
      history: this.#history,
      fromPage,
      onEdit: (dev) => {
        const entry = this.#snapshot?.devices.find((x) => x.id === dev.id)?.pageConfig;
        if (entry) this.#form.open({ kind: dev.kind === "gpio" ? "gpio" : "sensor", editing: { id: dev.id, entry } });
      },
      onRemove: (dev) => detached("removing the device", this.#removeDevice(dev)),
    });
    if (card) {
      card.root.replaceWith(fresh.root);
      card.destroy();
    } else container.append(fresh.root);
    this.#cards.set(d.id, fresh);
    return true;
  }

  #tick(): void {
    const now = Date.now();
    for (const card of this.#cards.values()) card.tick(now);
    if (this.#snapshot) {
      renderConnection(this.#snapshot.connection, now);
      renderOutbox(this.#snapshot.outbox, now);
      renderApp(this.#snapshot.app, now);
    }
    this.#claims.tick(now);
  }

  close(): void {
    window.clearInterval(this.#ticker);
    for (const c of this.#cleanup) c();
    this.#socket.removeAllListeners();
    this.#socket.io.removeAllListeners();
    this.#socket.disconnect();
    for (const card of this.#cards.values()) card.destroy();
    this.#cards.clear();
  }
}
