// ThingsBoard's OTA checksums: BaseOtaPackageService.generateChecksum hashes the whole package
// with Guava (Hashing.md5/sha256/sha384/sha512/crc32/murmur3_32/murmur3_128, seed 0) and stores
// HashCode.toString(): the bytes of asBytes() in lower-case hex. For the 32-bit hashes asBytes()
// is little-endian (IntHashCode), so crc32 0x3610a686 is stored as "86a61036".
// The enum is common/data/.../ota/ChecksumAlgorithm.java.
import { createHash } from "node:crypto";
import zlib from "node:zlib";

export const CHECKSUM_ALGORITHMS = ["MD5", "SHA256", "SHA384", "SHA512", "CRC32", "MURMUR3_32", "MURMUR3_128"] as const;
export type ChecksumAlgorithm = (typeof CHECKSUM_ALGORITHMS)[number];

export function isChecksumAlgorithm(s: string): s is ChecksumAlgorithm {
  return (CHECKSUM_ALGORITHMS as readonly string[]).includes(s);
}

function int32LeHex(n: number): string {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(n >>> 0);
  return b.toString("hex");
}

function murmur3x86_32(data: Buffer): number {
  const c1 = 0xcc9e2d51;
  const c2 = 0x1b873593;
  let h = 0;
  const blocks = data.length & ~3;
  for (let i = 0; i < blocks; i += 4) {
    let k = data.readUInt32LE(i);
    k = Math.imul(k, c1);
    k = (k << 15) | (k >>> 17);
    k = Math.imul(k, c2);
    h ^= k;
    h = (h << 13) | (h >>> 19);
    h = (Math.imul(h, 5) + 0xe6546b64) | 0;
  }
  let k = 0;
  const tail = data.length & 3;
  if (tail === 3) k ^= (data[blocks + 2] ?? 0) << 16;
  if (tail >= 2) k ^= (data[blocks + 1] ?? 0) << 8;
  if (tail >= 1) {
    k ^= data[blocks] ?? 0;
    k = Math.imul(k, c1);
    k = (k << 15) | (k >>> 17);
    k = Math.imul(k, c2);
    h ^= k;
  }
  h ^= data.length;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

const M64 = (1n << 64n) - 1n;
const rotl64 = (x: bigint, r: bigint): bigint => ((x << r) | (x >> (64n - r))) & M64;
function fmix64(k: bigint): bigint {
  k ^= k >> 33n;
  k = (k * 0xff51afd7ed558ccdn) & M64;
  k ^= k >> 33n;
  k = (k * 0xc4ceb9fe1a85ec53n) & M64;
  k ^= k >> 33n;
  return k;
}

function murmur3x64_128(data: Buffer): Buffer {
  const c1 = 0x87c37b91114253d5n;
  const c2 = 0x4cf5ad432745937fn;
  let h1 = 0n;
  let h2 = 0n;
  const blocks = data.length - (data.length % 16);
  for (let i = 0; i < blocks; i += 16) {
    let k1 = data.readBigUInt64LE(i);
    let k2 = data.readBigUInt64LE(i + 8);
    k1 = (rotl64((k1 * c1) & M64, 31n) * c2) & M64;
    h1 ^= k1;
    h1 = (((rotl64(h1, 27n) + h2) & M64) * 5n + 0x52dce729n) & M64;
    k2 = (rotl64((k2 * c2) & M64, 33n) * c1) & M64;
    h2 ^= k2;
    h2 = (((rotl64(h2, 31n) + h1) & M64) * 5n + 0x38495ab5n) & M64;
  }
  let k1 = 0n;
  let k2 = 0n;
  for (let i = data.length - 1; i >= blocks; i--) {
    const byte = BigInt(data[i] ?? 0);
    const off = i - blocks;
    if (off >= 8) k2 |= byte << BigInt((off - 8) * 8);
    else k1 |= byte << BigInt(off * 8);
  }
  if (data.length % 16 > 8) h2 ^= (rotl64((k2 * c2) & M64, 33n) * c1) & M64;
  if (data.length % 16 > 0) h1 ^= (rotl64((k1 * c1) & M64, 31n) * c2) & M64;
  const len = BigInt(data.length);
  h1 ^= len;
  h2 ^= len;
  h1 = (h1 + h2) & M64;
  h2 = (h2 + h1) & M64;
  h1 = fmix64(h1);
  h2 = fmix64(h2);
  h1 = (h1 + h2) & M64;
  h2 = (h2 + h1) & M64;
  const out = Buffer.alloc(16);
  out.writeBigUInt64LE(h1, 0);
  out.writeBigUInt64LE(h2, 8);
  return out;
}

/** The checksum string ThingsBoard stores for `data` (what the device later receives as sw_checksum). */
export function generateChecksum(algorithm: ChecksumAlgorithm, data: Buffer): string {
  switch (algorithm) {
    case "MD5":
      return createHash("md5").update(data).digest("hex");
    case "SHA256":
      return createHash("sha256").update(data).digest("hex");
    case "SHA384":
      return createHash("sha384").update(data).digest("hex");
    case "SHA512":
      return createHash("sha512").update(data).digest("hex");
    case "CRC32":
      return int32LeHex(zlib.crc32(data));
    case "MURMUR3_32":
      return int32LeHex(murmur3x86_32(data));
    case "MURMUR3_128":
      return murmur3x64_128(data).toString("hex");
  }
}
