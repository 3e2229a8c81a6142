// The sw_* shared attributes ThingsBoard sets on the gateway device for an assigned software
// package (DefaultOtaPackageStateService; OtaPackageUtil.getAttributeKey), read into the package
// the updater should fetch.
import type { OtaTarget } from "./otaFiles.ts";

export const SW_KEYS = [
  "sw_title",
  "sw_version",
  "sw_size",
  "sw_checksum",
  "sw_checksum_algorithm",
  "sw_url",
  "sw_tag",
];

/** The announced package; a string says why it cannot be taken; undefined when none is assigned. */
export function announcedTarget(s: Record<string, unknown>): OtaTarget | string | undefined {
  if (typeof s["sw_title"] !== "string" || typeof s["sw_version"] !== "string") return undefined;
  if (typeof s["sw_url"] === "string") return "packages given by URL are not supported; upload the file to ThingsBoard";
  const { sw_size: size, sw_checksum: checksum, sw_checksum_algorithm: algorithm } = s;
  if (typeof size !== "number" || !Number.isSafeInteger(size) || size <= 0)
    return "sw_size is missing or not a positive integer";
  if (typeof checksum !== "string" || typeof algorithm !== "string")
    return "sw_checksum or sw_checksum_algorithm is missing";
  return { title: s["sw_title"], version: s["sw_version"], size, checksum: checksum.toLowerCase(), algorithm };
}
