// Verifies a downloaded package against sw_checksum / sw_checksum_algorithm. ThingsBoard computes
// them with Guava (BaseOtaPackageService.generateChecksum) over every ChecksumAlgorithm it offers
// (MD5, SHA256, SHA384, SHA512, CRC32, MURMUR3_32, MURMUR3_128) and stores HashCode.toString():
// asBytes() in lower-case hex, which is little-endian for the 32-bit hashes (Guava IntHashCode).
// The cryptographic hashes and CRC32 stream the file; murmur3 reads it whole (a release is a few
// tens of MB; Buffers live outside the V8 heap limit).
import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { readFile } from "node:fs/promises";
import zlib from "node:zlib";

export const OTA_ALGORITHMS = ["MD5", "SHA256", "SHA384", "SHA512", "CRC32", "MURMUR3_32", "MURMUR3_128"] as const;
export type OtaAlgorithm = (typeof OTA_ALGORITHMS)[number];

export function isOtaAlgorithm(s: unknown): s is OtaAlgorithm {
  return typeof s === "string" && (OTA_ALGORITHMS as readonly string[]).includes(s);
}

const NODE_HASH: Partial<Record<OtaAlgorithm, string>> = {
  MD5: "md5",
  SHA256: "sha256",
  SHA384: "sha384",
  SHA512: "sha512",
};

function le32(n: number): string {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(n >>> 0);
  return b.toString("hex");
}

/** MurmurHash3 x86_32, seed 0 (Guava Hashing.murmur3_32). */
export function murmur32(data: Buffer): number {
  let h = 0;
  const n = data.length & ~3;
  const mix = (k: number): number => Math.imul(((k = Math.imul(k, 0xcc9e2d51)) << 15) | (k >>> 17), 0x1b873593);
  for (let i = 0; i < n; i += 4) {
    h ^= mix(data.readUInt32LE(i));
    h = (Math.imul((h << 13) | (h >>> 19), 5) + 0xe6546b64) | 0;
  }
  let k = 0;
  for (let i = data.length - 1; i >= n; i--) k = (k << 8) | (data[i] ?? 0);
  if (data.length & 3) h ^= mix(k);
  h ^= data.length;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

const MASK = 0xffffffffffffffffn;
const rot = (x: bigint, r: bigint): bigint => ((x << r) | (x >> (64n - r))) & MASK;
const mul = (a: bigint, b: bigint): bigint => (a * b) & MASK;
const fmix = (k: bigint): bigint => {
  k = mul(k ^ (k >> 33n), 0xff51afd7ed558ccdn);
  k = mul(k ^ (k >> 33n), 0xc4ceb9fe1a85ec53n);
  return k ^ (k >> 33n);
};

/** MurmurHash3 x64_128, seed 0 (Guava Hashing.murmur3_128): h1 then h2, little-endian. */
export function murmur128(data: Buffer): Buffer {
  const C1 = 0x87c37b91114253d5n;
  const C2 = 0x4cf5ad432745937fn;
  let h1 = 0n;
  let h2 = 0n;
  const n = data.length - (data.length % 16);
  for (let i = 0; i < n; i += 16) {
    h1 ^= mul(rot(mul(data.readBigUInt64LE(i), C1), 31n), C2);
    h1 = (mul((rot(h1, 27n) + h2) & MASK, 5n) + 0x52dce729n) & MASK;
    h2 ^= mul(rot(mul(data.readBigUInt64LE(i + 8), C2), 33n), C1);
    h2 = (mul((rot(h2, 31n) + h1) & MASK, 5n) + 0x38495ab5n) & MASK;
  }
  const tail = Buffer.alloc(16);
  data.copy(tail, 0, n);
  const rest = data.length - n;
  if (rest > 8) h2 ^= mul(rot(mul(tail.readBigUInt64LE(8), C2), 33n), C1);
  if (rest > 0) h1 ^= mul(rot(mul(tail.readBigUInt64LE(0), C1), 31n), C2);
  const len = BigInt(data.length);
  h1 ^= len;
  h2 ^= len;
  h1 = (h1 + h2) & MASK;
  h2 = (h2 + h1) & MASK;
  h1 = fmix(h1);
  h2 = fmix(h2);
  h1 = (h1 + h2) & MASK;
  h2 = (h2 + h1) & MASK;
  const out = Buffer.alloc(16);
  out.writeBigUInt64LE(h1, 0);
  out.writeBigUInt64LE(h2, 8);
  return out;
}

/** The checksum of a file as ThingsBoard prints it for `algorithm`. */
export async function fileChecksum(file: string, algorithm: OtaAlgorithm): Promise<string> {
  if (algorithm === "MURMUR3_32") return le32(murmur32(await readFile(file)));
  if (algorithm === "MURMUR3_128") return murmur128(await readFile(file)).toString("hex");
  const hash = NODE_HASH[algorithm];
  let crc = 0;
  const h = hash ? createHash(hash) : undefined;
  for await (const chunk of createReadStream(file)) {
    const b = chunk as Buffer;
    if (h) h.update(b);
    else crc = zlib.crc32(b, crc);
  }
  return h ? h.digest("hex") : le32(crc);
}
