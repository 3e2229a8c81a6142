// Dashboard entry: ask the server who we are, then show setup, login or the live dashboard.
import type { Role } from "../../server/http/protocol.ts";
import { api } from "./api.ts";
import { wireLoginForm, wireSetupForm } from "./auth.ts";
import { byTestId, detached, setText } from "./dom.ts";
import { LiveDashboard } from "./live.ts";
import { allowUpdateUpload, wireUpdateUpload } from "./updateUpload.ts";

type View = "loading" | "login" | "setup" | "dash";

let live: LiveDashboard | null = null;

function showView(view: View): void {
  for (const v of ["loading", "login", "setup", "dash"] as const) byTestId(`view-${v}`).hidden = v !== view;
  document.body.dataset["view"] = view;
  if (view === "login") byTestId<HTMLInputElement>("login-password").focus();
  if (view === "setup") byTestId<HTMLInputElement>("setup-code").focus();
}

function stopLive(): void {
  live?.close();
  live = null;
  // The socket pill is about the live dashboard: on the login page there is nothing to be offline from.
  byTestId("socket-state").hidden = true;
  byTestId("logout").hidden = true;
  byTestId("role").hidden = true;
}

function startDashboard(role: Role): void {
  stopLive();
  document.body.dataset["role"] = role;
  setText("role", role === "viewer" ? "read-only" : "admin");
  allowUpdateUpload(role === "admin");
  byTestId("role").hidden = false;
  byTestId("socket-state").hidden = false;
  byTestId("logout").hidden = false;
  showView("dash");
  live = new LiveDashboard({ role, onSessionLost: () => detached("routing", route()) });
}

async function route(): Promise<void> {
  const s = await api.session();
  if (!s.ok) {
    stopLive();
    showView("login");
    setText("login-error", s.error);
    return;
  }
  if (s.value.authenticated && s.value.role) {
    if (!live) startDashboard(s.value.role);
    return;
  }
  stopLive();
  showView(s.value.setupRequired ? "setup" : "login");
}

function boot(): void {
  wireLoginForm(startDashboard);
  wireSetupForm(startDashboard);
  wireUpdateUpload();
  byTestId("logout").addEventListener("click", () => {
    stopLive();
    detached(
      "logout",
      api.logout().then(() => route()),
    );
  });
  detached("routing", route());
}

if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", boot);
else boot();
