#!/usr/bin/env node
// Bundles the dashboard page into web/dist/: web/src/main.ts -> app.js (esbuild, no type-check:
// that is `npx tsc --noEmit -p web/tsconfig.json`), plus index.html, style.css and uPlot's CSS.
// Everything is local because the Pi may have no internet. Safe to run repeatedly: it rewrites
// the same files, and skips work when no source is newer than the bundle.
import { build } from "esbuild";
import { copyFileSync, mkdirSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import { isUpToDate } from "./lib/freshness.mjs";

const root = new URL("..", import.meta.url).pathname;
const web = join(root, "web");
const dist = join(web, "dist");
const require = createRequire(import.meta.url);
const uplotCss = join(require.resolve("uplot/package.json"), "..", "dist", "uPlot.min.css");
// The page's socket.io client comes from the server package's own browser build: it always
// matches the server's version, and it is there after `npm ci --omit=dev` on the Pi, where the
// socket.io-client package (a dev dependency, used by the tests and for types) is not.
const socketIoClient = join(require.resolve("socket.io/package.json"), "..", "client-dist", "socket.io.esm.min.js");

const copies = [
  [join(web, "index.html"), join(dist, "index.html")],
  [join(web, "style.css"), join(dist, "style.css")],
  [uplotCss, join(dist, "uplot.css")],
];

function upToDate() {
  // The bundle also inlines shared types only, so server/ changes never alter it.
  return (
    isUpToDate([join(dist, "app.js")], [join(web, "src")]) && copies.every(([from, to]) => isUpToDate([to], [from]))
  );
}

const force = process.argv.includes("--force");
if (!force && upToDate()) {
  console.log("build-web: web/dist is up to date");
} else {
  const started = Date.now();
  mkdirSync(dist, { recursive: true });
  await build({
    entryPoints: [join(web, "src", "main.ts")],
    outfile: join(dist, "app.js"),
    bundle: true,
    format: "esm",
    platform: "browser",
    target: "es2022", // every browser of the last few years on phones and laptops
    minify: true,
    sourcemap: true,
    legalComments: "none",
    alias: { "socket.io-client": socketIoClient },
    logLevel: "warning",
  });
  for (const [from, to] of copies) copyFileSync(from, to);
  console.log(`build-web: built web/dist in ${Date.now() - started} ms`);
}
