// POST /api/update/upload (admin): a release package (`npm run package`) uploaded on the
// dashboard, as the raw request body (application/gzip or application/octet-stream), with an
// optional ?sha256= the admin expects. The body is streamed to ota/upload.part (a Pi has little
// RAM: never buffered whole) while its SHA-256 is computed, then the updater takes the same path
// as a ThingsBoard package (server/features/ota/applyPackage.ts) and the appliance restarts.
// Answers: 401 not logged in, 403 viewer, 411 no Content-Length, 413 too big, 415 wrong type,
// 409 another update under way, 507 not enough disk space, 422 refused package, 202 applied.
import { createHash } from "node:crypto";
import { createWriteStream } from "node:fs";
import { Transform } from "node:stream";
import { pipeline } from "node:stream/promises";
import type { Request, Response } from "express";
import type { UploadRefusal, UploadSlot } from "../features/ota/uploadSlot.ts";
import type { Logger } from "../util/logger.ts";
import type { Role, UploadReply } from "./protocol.ts";

export interface OtaUploadApi {
  reserveUpload(size: number, by: string): Promise<UploadSlot | UploadRefusal>;
}

export interface UpdateUploadDeps {
  log: Logger;
  /** null when gateway.ota.enabled is false. */
  ota: OtaUploadApi | null | undefined;
  maxBytes: number;
  role(req: Request): Role | null;
  clientAddress(req: Request): string;
}

const TYPES = new Set(["application/gzip", "application/x-gzip", "application/octet-stream"]);
/** An upload that stalls this long is dropped (slow-loris guard; the whole upload has uploadTimeoutSec). */
const IDLE_MS = 30_000;

function fail(res: Response, status: number, error: string, close = false): void {
  // An early refusal leaves the body unread: closing saves sending the rest of a big file.
  if (close) res.setHeader("Connection", "close");
  res.status(status).json({ error });
}

export function updateUploadHandler(d: UpdateUploadDeps): (req: Request, res: Response) => Promise<void> {
  return async (req, res) => {
    const role = d.role(req);
    if (!role) return fail(res, 401, "log in first", true);
    if (role !== "admin") return fail(res, 403, "forbidden: the viewer role cannot update the software", true);
    if (!d.ota) return fail(res, 503, "software updates are off on this unit (gateway.ota.enabled)", true);
    const type = (req.headers["content-type"] ?? "").split(";")[0]?.trim().toLowerCase() ?? "";
    if (!TYPES.has(type))
      return fail(res, 415, "send the package file itself as application/gzip (a .tar.gz from npm run package)", true);
    const lengthHeader = req.headers["content-length"];
    if (lengthHeader === undefined) return fail(res, 411, "the upload needs a Content-Length", true);
    const size = Number(lengthHeader);
    if (!Number.isSafeInteger(size) || size <= 0) return fail(res, 400, "the file is empty", true);
    if (size > d.maxBytes)
      return fail(
        res,
        413,
        `the file is ${mib(size)} MB; packages of at most ${mib(d.maxBytes)} MB are taken (gateway.ota.maxUploadMb)`,
        true,
      );
    const q = req.query["sha256"];
    const expected = typeof q === "string" && q.trim() !== "" ? q.trim().toLowerCase() : undefined;
    if (q !== undefined && (typeof q !== "string" || (expected !== undefined && !/^[0-9a-f]{64}$/.test(expected))))
      return fail(res, 400, "sha256 must be 64 hexadecimal digits", true);

    const by = `admin at ${d.clientAddress(req)}`;
    const slot = await d.ota.reserveUpload(size, by);
    if ("status" in slot) return fail(res, slot.status, slot.error, true);
    d.log.info(`software package upload by ${by}: ${size} bytes${expected ? `, expected SHA-256 ${expected}` : ""}`);

    const hash = createHash("sha256");
    let received = 0;
    let idle: NodeJS.Timeout | undefined;
    const stalled = (): void => {
      req.destroy(new Error(`no data for ${IDLE_MS / 1000} s`));
    };
    const counter = new Transform({
      transform(chunk: Buffer, _enc, done) {
        received += chunk.length;
        hash.update(chunk);
        slot.progress(received);
        idle?.refresh();
        done(null, chunk);
      },
    });
    idle = setTimeout(stalled, IDLE_MS);
    // req is piped, not part of the pipeline: a failed write (ENOSPC) must not destroy the
    // connection the answer goes back on; the rest of the body is then drained and dropped.
    const cutOff = (e: Error): void => {
      counter.destroy(e);
    };
    req.once("error", cutOff);
    req.once("aborted", () => cutOff(new Error("the client went away")));
    req.pipe(counter);
    try {
      await pipeline(counter, createWriteStream(slot.file, { mode: 0o640, flush: true }));
    } catch (err) {
      req.unpipe(counter);
      req.resume();
      const e = err as NodeJS.ErrnoException;
      const why =
        e.code === "ENOSPC"
          ? `the disk filled up after ${received} of ${size} bytes; free some space and upload again`
          : `the upload was cut off after ${received} of ${size} bytes (${e.message})`;
      d.log.warn(`software package upload by ${by} failed: ${why}`);
      slot.fail(why);
      if (!res.headersSent && !res.destroyed) fail(res, e.code === "ENOSPC" ? 507 : 400, why, true);
      return;
    } finally {
      clearTimeout(idle);
    }
    if (received !== size) {
      slot.fail(`the upload ended after ${received} of ${size} bytes`);
      return fail(res, 400, `the upload ended after ${received} of ${size} bytes`, true);
    }
    const sha256 = hash.digest("hex");
    const outcome = await slot.complete({ sha256, ...(expected ? { expectedSha256: expected } : {}) });
    if (!outcome.ok) return fail(res, 422, outcome.error);
    // Restart only once the answer is out (or the client is gone): the page then shows "restarting to apply".
    let restarted = false;
    const restart = (): void => {
      if (restarted) return;
      restarted = true;
      outcome.restart();
    };
    res.once("finish", restart);
    res.once("close", restart);
    const reply: UploadReply = { ok: true, version: outcome.version, sha256, state: "UPDATING" };
    res.status(202).json(reply);
  };
}

function mib(n: number): string {
  const v = n / 1048576;
  return v >= 10 ? String(Math.round(v)) : v.toFixed(1);
}
