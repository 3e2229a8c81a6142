// The Host header check against DNS rebinding (issue 12: `Host: evil.example:18081` with a
// matching Origin logged in, so a page on evil.example whose name was re-pointed at the unit
// could drive it). Only the names the dashboard is really reached by are accepted: localhost and
// loopback addresses, the unit's own addresses and host names, the hosts of the configured
// allowedOrigins, and dashboard.allowedHosts for anything else (a DNS name, a port forward).
import { hostname, networkInterfaces } from "node:os";
import { isIP } from "node:net";

/** How long the unit's own addresses are cached (DHCP can change them). */
const ADDRESS_CACHE_MS = 10_000;

export interface HostCheckOptions {
  allowedHosts: readonly string[];
  allowedOrigins: readonly string[];
  /** The unit's names and addresses (tests pass their own). */
  unitNames?: () => string[];
  now?: () => number;
}

export function unitNamesAndAddresses(): string[] {
  const names: string[] = [];
  const h = hostname().toLowerCase();
  if (h) names.push(h, `${h}.local`);
  for (const list of Object.values(networkInterfaces()))
    for (const a of list ?? []) names.push(a.address.toLowerCase().replace(/%.*$/, ""));
  return names;
}

/** The host part of a Host header: "[::1]:8080" -> "::1", "Pi.Local:80" -> "pi.local". */
export function hostOf(header: string | undefined): string | null {
  if (!header || header.length > 300) return null;
  const h = header.trim().toLowerCase();
  if (h.startsWith("[")) {
    const end = h.indexOf("]");
    return end > 1 ? h.slice(1, end) : null;
  }
  const colon = h.indexOf(":");
  const name = (colon >= 0 ? h.slice(0, colon) : h).replace(/\.$/, "");
  return name.length > 0 ? name : null;
}

export class HostCheck {
  readonly #fixed: Set<string>;
  readonly #unitNames: () => string[];
  readonly #now: () => number;
  #unit: Set<string> = new Set();
  #unitAt = -Infinity;

  constructor(o: HostCheckOptions) {
    this.#fixed = new Set(["localhost", "::1", ...o.allowedHosts.map((h) => h.toLowerCase().replace(/^\[|\]$/g, ""))]);
    for (const origin of o.allowedOrigins) {
      try {
        this.#fixed.add(new URL(origin).hostname.toLowerCase().replace(/^\[|\]$/g, ""));
      } catch {
        /* the schema validated them as URLs */
      }
    }
    this.#unitNames = o.unitNames ?? unitNamesAndAddresses;
    this.#now = o.now ?? Date.now;
  }

  allows(hostHeader: string | undefined): boolean {
    const host = hostOf(hostHeader);
    if (host === null) return false;
    if (this.#fixed.has(host) || host.endsWith(".localhost")) return true;
    if (isIP(host) === 4 && host.startsWith("127.")) return true;
    const now = this.#now();
    if (now - this.#unitAt > ADDRESS_CACHE_MS) {
      this.#unit = new Set(this.#unitNames());
      this.#unitAt = now;
    }
    return this.#unit.has(host);
  }
}
