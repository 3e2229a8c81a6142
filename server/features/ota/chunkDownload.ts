// Resumable chunked download of an OTA package over ThingsBoard's device API (MqttTopics:
// v2/sw/request/{requestId}/chunk/{n} with the chunk size as payload, answered on
// v2/sw/response/{requestId}/chunk/{n}; errors on v2/fw/error, which ThingsBoard uses for
// software too: MqttTransportHandler.sendOtaPackageError). Chunk n starts at n * chunkSize
// (CaffeineOtaPackageCache.get), so a restart resumes at floor(received / chunkSize) with the
// tail cut back to a whole chunk. Bytes go to package.part, which is renamed only when whole.
import { closeSync, fsyncSync, openSync, renameSync, statSync, truncateSync, writeSync } from "node:fs";
import type { OtaFiles, OtaTarget } from "./otaFiles.ts";

export interface ChunkSource {
  /** Asks for chunk `n` of size `chunkSize` under `requestId`; resolves with its bytes. */
  chunk(requestId: number, n: number, chunkSize: number): Promise<Buffer>;
}

export class OtaDownloadError extends Error {}

/** Downloads `target` into files.path("package.tar.gz"); returns the number of bytes fetched this time. */
export async function downloadPackage(
  files: OtaFiles,
  target: OtaTarget,
  source: ChunkSource,
  chunkSize: number,
  requestId: number,
  progress: (received: number) => void,
  cancelled: () => boolean,
): Promise<number> {
  const part = files.path("package.part");
  let have = 0;
  try {
    have = statSync(part).size;
  } catch {
    have = 0;
  }
  // Resume only what belongs to this very package.
  const prev = files.download();
  if (
    !prev ||
    prev.checksum !== target.checksum ||
    prev.version !== target.version ||
    prev.size !== target.size ||
    have > target.size
  )
    have = 0;
  if (have === 0) files.remove("package.part");
  files.write("download.json", target);
  let n = Math.floor(have / chunkSize);
  let offset = n * chunkSize;
  const fd = openSync(part, have === 0 ? "w" : "r+");
  let fetched = 0;
  try {
    if (have !== offset) truncateSync(part, offset);
    while (offset < target.size) {
      if (cancelled()) throw new OtaDownloadError("cancelled");
      const data = await source.chunk(requestId, n, chunkSize);
      if (data.length === 0)
        throw new OtaDownloadError(`the package ended at ${offset} bytes; sw_size says ${target.size}`);
      if (offset + data.length > target.size)
        throw new OtaDownloadError(`the package is longer than sw_size (${target.size} bytes)`);
      if (data.length !== chunkSize && offset + data.length !== target.size)
        throw new OtaDownloadError(`chunk ${n} has ${data.length} bytes, expected ${chunkSize}`);
      writeSync(fd, data, 0, data.length, offset);
      offset += data.length;
      fetched += data.length;
      n++;
      progress(offset);
    }
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(part, files.path("package.tar.gz"));
  return fetched;
}
