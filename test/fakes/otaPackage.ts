// Release packages for the OTA tests: a .tar.gz with manifest.json and an app/ tree, the layout
// scripts/package.mjs produces; and ThingsBoard's REST steps to publish one to a device
// (OtaPackageController: create the info, upload the data, saveDevice with softwareId).
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { Emulator } from "../../scripts/emulator/index.ts";
import { tempDir } from "./tempDir.ts";

const REPO = fileURLToPath(new URL("../../", import.meta.url));

export interface FakeManifest {
  name?: string;
  version: string;
  arch?: string;
  nodeAbi?: string;
}

/** A package whose app/ holds `files` (path -> content); padded so it spans many chunks. */
export function buildPackage(m: FakeManifest, files: Record<string, string> = {}, padBytes = 20_000): Buffer {
  const dir = tempDir("ota-pkg-");
  try {
    const manifest = {
      name: m.name ?? "rpi-tb-gateway",
      version: m.version,
      arch: m.arch ?? process.arch,
      nodeAbi: m.nodeAbi ?? process.versions.modules,
      nodeVersion: process.versions.node,
    };
    writeFileSync(join(dir, "manifest.json"), JSON.stringify(manifest));
    mkdirSync(join(dir, "app"));
    writeFileSync(join(dir, "app", "package.json"), JSON.stringify({ name: "rpi-tb-gateway", version: m.version }));
    // Incompressible padding, so the tarball really is padBytes long.
    writeFileSync(join(dir, "app", "padding.bin"), randomBytes(padBytes));
    for (const [p, content] of Object.entries(files)) {
      mkdirSync(join(dir, "app", p, ".."), { recursive: true });
      writeFileSync(join(dir, "app", p), content);
    }
    execFileSync("tar", ["-czf", join(dir, "pkg.tar.gz"), "-C", dir, "./manifest.json", "./app"]);
    return readFileSync(join(dir, "pkg.tar.gz"));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * The files of a release for the guard: the real scripts/check-native.mjs and the sandbox's
 * stand-in native modules (test/scripts/helpers/sandbox.ts), "broken" adding the one that fails to load.
 */
export function releaseFiles(standIns: string, variant: "ok" | "broken" = "ok"): Record<string, string> {
  const files: Record<string, string> = {
    "scripts/check-native.mjs": readFileSync(join(REPO, "scripts", "check-native.mjs"), "utf8"),
  };
  const walk = (dir: string, rel: string): void => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      if (e.isDirectory()) walk(join(dir, e.name), `${rel}/${e.name}`);
      else files[`${rel}/${e.name}`] = readFileSync(join(dir, e.name), "utf8");
    }
  };
  walk(join(standIns, "ok"), "node_modules");
  if (variant === "broken") walk(join(standIns, "broken"), "node_modules");
  return files;
}

export interface TbRest {
  call(method: string, path: string, body?: unknown): Promise<{ status: number; body: unknown }>;
  upload(id: string, data: Buffer, algorithm: string): Promise<{ status: number; body: unknown }>;
}

export async function tbRest(emu: Emulator): Promise<TbRest> {
  const base = `http://127.0.0.1:${emu.httpPort ?? 0}`;
  const login = await fetch(`${base}/api/auth/login`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ username: "tenant@thingsboard.org", password: "tenant" }),
  });
  const { token } = (await login.json()) as { token: string };
  const headers = { "x-authorization": `Bearer ${token}` };
  const asJson = async (res: Response) => {
    const text = await res.text();
    return { status: res.status, body: text ? (JSON.parse(text) as unknown) : null };
  };
  return {
    call: async (method, path, body) =>
      asJson(
        await fetch(`${base}${path}`, {
          method,
          headers: { ...headers, "content-type": "application/json" },
          ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        }),
      ),
    upload: async (id, data, algorithm) => {
      const form = new FormData();
      form.append("file", new Blob([data], { type: "application/gzip" }), "rpi-tb-gateway.tar.gz");
      return asJson(
        await fetch(`${base}/api/otaPackage/${id}?checksumAlgorithm=${algorithm}`, {
          method: "POST",
          headers,
          body: form,
        }),
      );
    },
  };
}

/** Creates, uploads and assigns a software package to `deviceName`, as an operator would. */
export async function publishPackage(
  rest: TbRest,
  deviceName: string,
  title: string,
  version: string,
  data: Buffer,
  algorithm = "SHA256",
): Promise<string> {
  const dev = (await rest.call("GET", `/api/tenant/devices?deviceName=${encodeURIComponent(deviceName)}`))
    .body as Record<string, unknown>;
  const created = await rest.call("POST", "/api/otaPackage", {
    title,
    version,
    type: "SOFTWARE",
    deviceProfileId: dev["deviceProfileId"],
  });
  if (created.status !== 200) throw new Error(`create package: ${JSON.stringify(created.body)}`);
  const id = (created.body as { id: { id: string } }).id.id;
  const up = await rest.upload(id, data, algorithm);
  if (up.status !== 200) throw new Error(`upload package: ${JSON.stringify(up.body)}`);
  const saved = await rest.call("POST", "/api/device", { ...dev, softwareId: { entityType: "OTA_PACKAGE", id } });
  if (saved.status !== 200) throw new Error(`assign package: ${JSON.stringify(saved.body)}`);
  return id;
}
