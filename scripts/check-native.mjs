// Loads every native module of an application directory with the running node, the way the
// service will: install.sh runs it in the new release before switching to it, so a binary built
// for another Node ABI or CPU (an ARMv7 prebuilt on an ARMv6 Pi dies with SIGILL), or one left
// half-written, stops the upgrade instead of the service (issue 18).
//
//   node scripts/check-native.mjs [APP_DIR]     (default: the current directory)
//
// Exit 0 when all load; 1 with one line per failure otherwise. Plain JS: it runs before any
// build, with nothing but node.
import { spawnSync } from "node:child_process";
import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath } from "node:url";

const appDir = path.resolve(process.argv[2] === "--probe" ? process.argv[4] : (process.argv[2] ?? "."));
const require = createRequire(path.join(appDir, "package.json"));

/** Each module with a probe that makes it load (dlopen) its binary and do one real thing. */
const MODULES = {
  // The outbox and the chart history: open a database, run a statement.
  "better-sqlite3": (mod) => {
    const db = new mod(":memory:");
    try {
      const row = db.prepare("select sqlite_version() as v").get();
      return `SQLite ${row.v}`;
    } finally {
      db.close();
    }
  },
  // onoff's interrupt watcher for GPIO inputs (Linux only: elsewhere it is a stub).
  epoll: (mod) => {
    if (typeof mod.Epoll !== "function") throw new Error("no Epoll class (not Linux?)");
    return "Epoll";
  },
  // The I2C sensors.
  "i2c-bus": (mod) => {
    if (typeof mod.openSync !== "function") throw new Error("no openSync()");
    return "openSync";
  },
};

// Each module is loaded in a child process of its own: a wrong binary does not always throw, it
// can kill the process (SIGILL for an ARMv7 binary on an ARMv6 CPU, SIGSEGV/SIGBUS for a
// truncated one), and that must be reported too.
if (process.argv[2] === "--probe") {
  const [name, dir] = process.argv.slice(3);
  const req = createRequire(path.join(dir, "package.json"));
  console.log(MODULES[name](req(name)));
  process.exit(0);
}

let failed = 0;
for (const name of Object.keys(MODULES)) {
  let where = "";
  try {
    where = path.dirname(require.resolve(`${name}/package.json`));
  } catch {
    console.error(`${name}: not installed in ${appDir}/node_modules (its build failed? see npm's output)`);
    failed++;
    continue;
  }
  const child = spawnSync(process.execPath, [fileURLToPath(import.meta.url), "--probe", name, appDir], {
    encoding: "utf8",
    timeout: 60_000,
  });
  if (child.status === 0) {
    console.log(`${name}: ok (${child.stdout.trim()}) from ${path.relative(appDir, where)}`);
    continue;
  }
  const why = child.signal ? `killed by ${child.signal}` : (child.error?.message ?? lastErrorLine(child.stderr));
  console.error(
    `${name}: does not load with node ${process.version} (${process.arch}, ABI ${process.versions.modules}): ${why}`,
  );
  failed++;
}
process.exit(failed ? 1 : 0);

function lastErrorLine(stderr) {
  const lines = stderr.split("\n").filter((l) => /Error|error:/.test(l));
  return (lines[0] ?? stderr.trim().split("\n")[0] ?? "exit code without a message").trim();
}
