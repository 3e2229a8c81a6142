// Classifies errors from SQLite and the file system so the outbox can react without crashing:
// a full or failing disk stops spilling (retry later), a corrupt file is moved aside.

export type DiskErrorKind = "full" | "io" | "corrupt" | "other";

function codeOf(err: unknown): string {
  if (typeof err === "object" && err !== null && "code" in err) {
    const code = (err as { code: unknown }).code;
    if (typeof code === "string") return code;
  }
  return "";
}

export function classifyDiskError(err: unknown): DiskErrorKind {
  const code = codeOf(err);
  // better-sqlite3 reports extended result codes as strings (SQLITE_IOERR_WRITE, SQLITE_CORRUPT_VTAB...).
  if (code === "SQLITE_FULL" || code === "ENOSPC" || code === "EDQUOT") return "full";
  if (code.startsWith("SQLITE_IOERR") || code === "EIO" || code === "EROFS" || code === "SQLITE_READONLY") return "io";
  if (code.startsWith("SQLITE_CORRUPT") || code === "SQLITE_NOTADB") return "corrupt";
  if (code.startsWith("SQLITE_CANTOPEN") || code === "EACCES" || code === "EPERM") return "io";
  return "other";
}

export function describeError(err: unknown): string {
  const code = codeOf(err);
  const msg = err instanceof Error ? err.message : String(err);
  return code && !msg.includes(code) ? `${code}: ${msg}` : msg;
}
