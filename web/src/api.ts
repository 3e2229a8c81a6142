// The JSON endpoints (server/http/apiRoutes.ts). Every call resolves; failures carry the
// server's error text so the page can show it.
import type { Role, SessionInfo } from "../../server/http/protocol.ts";

export type ApiResult<T> = { ok: true; value: T } | { ok: false; status: number; error: string };

async function call<T>(method: "GET" | "POST", path: string, body?: unknown): Promise<ApiResult<T>> {
  try {
    const headers: Record<string, string> = { accept: "application/json" };
    const init: RequestInit = { method, credentials: "same-origin", headers };
    if (body !== undefined) {
      headers["content-type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    const res = await fetch(path, init);
    const data: unknown = await res.json().catch(() => null);
    if (res.ok) return { ok: true, value: data as T };
    const error =
      typeof data === "object" && data !== null && "error" in data
        ? String((data as { error: unknown }).error)
        : `HTTP ${res.status}`;
    return { ok: false, status: res.status, error };
  } catch (err) {
    return {
      ok: false,
      status: 0,
      error: `cannot reach the appliance (${err instanceof Error ? err.message : String(err)})`,
    };
  }
}

export const api = {
  session: () => call<SessionInfo>("GET", "/api/session"),
  login: (password: string) => call<{ ok: true; role: Role }>("POST", "/api/login", { password }),
  setup: (code: string, password: string) => call<{ ok: true; role: Role }>("POST", "/api/setup", { code, password }),
  logout: () => call<{ ok: true }>("POST", "/api/logout", {}),
};
