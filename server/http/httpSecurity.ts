// Request-level security: the session cookie, the Origin policy shared by the JSON endpoints and
// socket.io (socket.io does not check Origin for the websocket transport: GHSA-mj22-23ff-2hrr),
// and the headers every response carries.
import type { IncomingMessage, OutgoingHttpHeaders } from "node:http";

export const SESSION_COOKIE = "tbgw_session";

export function readCookie(header: string | undefined, name: string): string | undefined {
  if (!header || header.length > 8192) return undefined;
  for (const part of header.split(";")) {
    const eq = part.indexOf("=");
    if (eq < 0) continue;
    if (part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

export function sessionCookie(id: string, maxAgeSec: number): string {
  // No Secure flag: the appliance serves plain HTTP on the LAN, where a Secure cookie would never be sent.
  return `${SESSION_COOKIE}=${id}; Path=/; HttpOnly; SameSite=Strict; Max-Age=${Math.floor(maxAgeSec)}`;
}

export function clearedSessionCookie(): string {
  return `${SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0`;
}

function originOf(url: string): string | null {
  try {
    const u = new URL(url);
    return u.protocol === "http:" || u.protocol === "https:" ? u.origin : null;
  } catch {
    return null;
  }
}

/**
 * "absent": no Origin header (curl, scripts): the caller then demands a valid session.
 * true: the page's own host (Origin host equals the Host header) or an allowed origin.
 */
export function checkOrigin(req: IncomingMessage, allowedOrigins: readonly string[]): boolean | "absent" {
  const origin = req.headers.origin;
  if (origin === undefined) return "absent";
  const normalised = originOf(origin);
  if (!normalised) return false; // includes the literal "null" of sandboxed frames and file:// pages
  const host = req.headers.host?.toLowerCase();
  if (host && new URL(normalised).host === host) return true;
  return allowedOrigins.some((a) => originOf(a) === normalised);
}

/** No inline script anywhere; the socket may only go back to this origin. */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "font-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join("; ");

export const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  "Content-Security-Policy": CONTENT_SECURITY_POLICY,
  "X-Content-Type-Options": "nosniff",
  "X-Frame-Options": "DENY",
  "Referrer-Policy": "no-referrer",
  "Cross-Origin-Opener-Policy": "same-origin",
  "Cross-Origin-Resource-Policy": "same-origin",
  "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
};

export function addSecurityHeaders(headers: OutgoingHttpHeaders): void {
  for (const [k, v] of Object.entries(SECURITY_HEADERS)) headers[k] = v;
}
