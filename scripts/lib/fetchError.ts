// Node's fetch reports every network failure as "TypeError: fetch failed" and keeps what failed in
// `cause` (undici: an Error with a system or TLS code, or an AggregateError when a name resolved
// to several addresses). This turns it into a sentence a user can act on (issue 13).

interface CodedError {
  code?: unknown;
  message?: unknown;
}

const TLS_HINT = "if it uses a certificate from your own CA, run with NODE_EXTRA_CA_CERTS=/path/to/ca.pem";

const TLS_CODES: Record<string, string> = {
  DEPTH_ZERO_SELF_SIGNED_CERT: "its certificate is self-signed",
  SELF_SIGNED_CERT_IN_CHAIN: "its certificate chain ends in a self-signed CA this machine does not trust",
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: "its certificate is signed by a CA this machine does not trust",
  UNABLE_TO_GET_ISSUER_CERT_LOCALLY: "its certificate is signed by a CA this machine does not trust",
  CERT_HAS_EXPIRED: "its certificate has expired",
  CERT_NOT_YET_VALID: "its certificate is not valid yet (is this machine's clock right?)",
  ERR_TLS_CERT_ALTNAME_INVALID: "its certificate is for another host name",
};

function messageOf(e: CodedError): string {
  return typeof e.message === "string" ? e.message : "";
}

function codeOf(e: unknown): string | undefined {
  const c = (e as CodedError | null)?.code;
  return typeof c === "string" ? c : undefined;
}

/** The innermost cause with a code (undici nests the system error one or two levels down). */
function rootCause(err: unknown): { code: string | undefined; message: string } {
  let e: unknown = err;
  for (let i = 0; i < 4 && e; i++) {
    const code = codeOf(e);
    // An AggregateError (every address of a name refused) carries its members' code itself.
    if (code) return { code, message: messageOf(e as CodedError) };
    const next: unknown = (e as { cause?: unknown }).cause;
    if (!next) break;
    e = next;
  }
  return { code: codeOf(e), message: String((e as CodedError | null)?.message ?? e) };
}

export function describeFetchError(err: unknown, url: string, waitMs: number): string {
  const name = (err as { name?: unknown } | null)?.name;
  if (name === "TimeoutError" || name === "AbortError")
    return `No answer from ${url} within ${Math.round(waitMs / 1000)} s: the server is not responding (a firewall dropping packets, or a wrong host/port?).`;
  let host = url;
  try {
    host = new URL(url).host;
  } catch {
    /* keep the whole URL */
  }
  const { code, message } = rootCause(err);
  switch (code ?? "") {
    case "ECONNREFUSED":
      return `Cannot connect to ${url}: connection refused (nothing listens on ${host}; is ThingsBoard running, and is --url right?).`;
    case "ENOTFOUND":
      return `Cannot connect to ${url}: the host name ${host.replace(/:\d+$/, "")} does not resolve (DNS: no such host; check --url).`;
    case "EAI_AGAIN":
      return `Cannot connect to ${url}: DNS lookup of ${host.replace(/:\d+$/, "")} failed temporarily (no DNS server reachable?).`;
    case "EHOSTUNREACH":
    case "ENETUNREACH":
      return `Cannot connect to ${url}: no route to ${host} (network down or wrong address).`;
    case "ETIMEDOUT":
    case "UND_ERR_CONNECT_TIMEOUT":
      return `Cannot connect to ${url}: connecting timed out (host down, or a firewall drops the packets).`;
    case "ECONNRESET":
    case "UND_ERR_SOCKET":
      return `The connection to ${url} was closed by the other side before it answered${url.startsWith("http:") ? " (does the server expect https://?)" : ""}.`;
    case "EPROTO":
    case "ERR_SSL_WRONG_VERSION_NUMBER":
      return `TLS handshake with ${url} failed: ${message} (does the server expect http:// rather than https://?).`;
  }
  if (code && TLS_CODES[code]) return `TLS: ${host} is not trusted: ${TLS_CODES[code]} (${code}); ${TLS_HINT}.`;
  if (code && /CERT|TLS|SSL/.test(code)) return `TLS with ${host} failed: ${message} (${code}); ${TLS_HINT}.`;
  return `Request to ${url} failed: ${code ? `${code} ` : ""}${message}`;
}
