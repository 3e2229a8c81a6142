// One real call into each native module of an application directory, for smoke-arm64.mjs: it runs
// under the target's node (arm64 under qemu-user), so each probe makes the cross-built machine
// code do work and reach the kernel, beyond check-native.mjs's "it loads". Prints one line.
//
//   node scripts/lib/nativeProbes.cjs sqlite-file|epoll|i2c|onoff APP_DIR WORK_DIR
//
// CommonJS on purpose: nothing but node, and require() of .node files as the packages do.
"use strict";
const { createRequire } = require("node:module");
const fs = require("node:fs");
const path = require("node:path");

const [name, appDir, workDir] = process.argv.slice(2);
const appRequire = createRequire(path.join(appDir, "package.json"));
const packageDir = (pkg) => path.dirname(appRequire.resolve(`${pkg}/package.json`));

const PROBES = {
  // The outbox and history are SQLite files in WAL mode: write, close, reopen, read back.
  "sqlite-file": () => {
    const Database = appRequire("better-sqlite3");
    const file = path.join(workDir, "probe.sqlite");
    let db = new Database(file);
    db.pragma("journal_mode = WAL");
    db.exec("create table t (n integer primary key, v text)");
    const insert = db.prepare("insert into t (v) values (?)");
    db.transaction(() => {
      for (let i = 0; i < 1000; i++) insert.run(`row ${i}`);
    })();
    db.close();
    db = new Database(file, { readonly: true });
    const row = db.prepare("select count(*) as c, max(v) as m from t").get();
    db.close();
    if (row.c !== 1000) throw new Error(`read back ${row.c} rows, wrote 1000`);
    return `1000 rows written in WAL mode and read back from ${path.basename(file)}`;
  },
  // onoff's GPIO interrupts are epoll events: one on a FIFO (made by the caller), end to end.
  epoll: async () => {
    const { Epoll } = appRequire("epoll");
    const fifo = path.join(workDir, "probe.fifo");
    const fd = fs.openSync(fifo, fs.constants.O_RDWR | fs.constants.O_NONBLOCK);
    const events = await new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error("no epoll event within 60 s")), 60_000);
      const poller = new Epoll((err, readyFd, ev) => {
        clearTimeout(timer);
        poller.close();
        if (err) reject(err);
        else resolve({ readyFd, ev });
      });
      poller.add(fd, Epoll.EPOLLIN);
      fs.writeSync(fd, "x");
    });
    fs.closeSync(fd);
    if (events.readyFd !== fd || !(events.ev & 1)) throw new Error(`unexpected event ${JSON.stringify(events)}`);
    return `EPOLLIN on a FIFO delivered to the callback`;
  },
  // The I2C driver's ioctls, with no /dev/i2c-* here: I2C_FUNCS (0x705) on /dev/null. A kernel
  // answers ENOTTY; qemu-user (7.2, Debian 12) answers ENOSYS itself, because I2C ioctls are not in
  // its translation table (QEMU_STRACE=1 shows `ioctl(N,0x705,...) = -1 errno=38`). Either way the
  // arm64 binding ran up to the system call; under qemu-user the I2C path cannot go further.
  i2c: () => {
    const binding = require(path.join(packageDir("i2c-bus"), "build", "Release", "i2c.node"));
    const fd = fs.openSync("/dev/null", "r+");
    try {
      binding.i2cFuncsSync(fd);
    } catch (err) {
      const text = `${err.code} ${err.message}`;
      if (/ENOTTY/.test(text)) return "I2C_FUNCS ioctl -> ENOTTY from the kernel";
      if (/ENOSYS/.test(text)) return "I2C_FUNCS ioctl issued -> ENOSYS (qemu-user does not translate I2C ioctls)";
      throw err;
    } finally {
      fs.closeSync(fd);
    }
    throw new Error("I2C_FUNCS on /dev/null succeeded");
  },
  // onoff itself loads (with epoll); no GPIO here (no /sys/class/gpio of a Pi).
  onoff: () => {
    const { Gpio } = appRequire("onoff");
    if (typeof Gpio !== "function") throw new Error("no Gpio class");
    return `Gpio class loaded, Gpio.accessible = ${Gpio.accessible}`;
  },
};

const probe = PROBES[name];
if (!probe) {
  console.error(`unknown probe ${name}; one of ${Object.keys(PROBES).join(", ")}`);
  process.exit(2);
}
Promise.resolve()
  .then(probe)
  .then((msg) => console.log(msg))
  .catch((err) => {
    console.error(err && err.stack ? err.stack : String(err));
    process.exit(1);
  });
