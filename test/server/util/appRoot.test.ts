import { test, describe, after } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { appPath, appRoot, findAppRoot } from "../../../server/util/appRoot.ts";
import { tempDir } from "../../fakes/tempDir.ts";

const REPO = path.resolve(import.meta.dirname, "../../..");
const tmp = tempDir("approot-");
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

function ancestors(dir: string): string[] {
  const out = [dir];
  while (path.dirname(out.at(-1) ?? "/") !== out.at(-1)) out.push(path.dirname(out.at(-1) ?? "/"));
  return out;
}

describe("appRoot", () => {
  test("from the sources it is this checkout", () => {
    assert.equal(appRoot(), REPO);
    assert.equal(appPath("web", "dist"), path.join(REPO, "web", "dist"));
    assert.equal(appPath("package.json"), path.join(REPO, "package.json"));
  });

  test("the nearest package.json above a file path or file: URL, as from dist/", () => {
    const app = path.join(tmp, "opt", "app");
    fs.mkdirSync(path.join(app, "dist"), { recursive: true });
    fs.writeFileSync(path.join(app, "package.json"), "{}");
    const bundle = path.join(app, "dist", "bundle.mjs");
    assert.equal(findAppRoot(bundle), app);
    assert.equal(findAppRoot(pathToFileURL(bundle)), app);
    assert.equal(findAppRoot(pathToFileURL(bundle).href), app);
    assert.equal(findAppRoot(app), app);
  });

  const strayAbove = ancestors(tmp).find((d) => fs.existsSync(path.join(d, "package.json")));
  test(
    "no package.json up to the root is a clear error",
    { skip: strayAbove ? `${strayAbove} holds a package.json` : false },
    () => {
      const lone = path.join(tmp, "lone", "dist");
      fs.mkdirSync(lone, { recursive: true });
      assert.throws(() => findAppRoot(path.join(lone, "bundle.mjs")), {
        message: `no package.json in any directory above ${path.join(lone, "bundle.mjs")}: run the app from its installed directory`,
      });
    },
  );
});
