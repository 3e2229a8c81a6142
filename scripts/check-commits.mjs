#!/usr/bin/env node
// Checks commit messages against the project's rule: a subject of at most 72 characters, a blank
// line, and a body that says why. History that landed before the rule is not rewritten, so only a
// range is checked: `node scripts/check-commits.mjs [<base>]` checks <base>..HEAD (default:
// 39b0dc0, the last commit that landed before the rule). Run by `npm run lint` (so by npm test):
// a message that breaks the rule fails the run before it can land; fix it with `git commit
// --amend` or `git rebase -i` on the branch.
//   exit 0: all good (or nothing to check: not a git checkout, or <base> not in a shallow clone)
//   exit 1: violations, listed
import { spawnSync } from "node:child_process";

const base = process.argv[2] ?? "39b0dc0";
const git = (...args) => spawnSync("git", args, { encoding: "utf8" });
if (git("rev-parse", "--git-dir").status !== 0) {
  console.log("check-commits: not a git checkout; nothing to check");
  process.exit(0);
}
if (git("cat-file", "-e", `${base}^{commit}`).status !== 0) {
  console.log(`check-commits: ${base} is not in this clone (shallow?); nothing to check`);
  process.exit(0);
}
const log = git("log", "--format=%H%x00%s%x00%b%x1e", `${base}..HEAD`);
if (log.status !== 0) {
  console.error(log.stderr);
  process.exit(2);
}
const bad = [];
for (const entry of log.stdout.split("\x1e")) {
  const [hash, subject, body] = entry.replace(/^\n/, "").split("\x00");
  if (!hash) continue;
  if (subject.length > 72) bad.push(`${hash.slice(0, 7)} subject is ${subject.length} characters (max 72): ${subject}`);
  if (!body || body.trim() === "") bad.push(`${hash.slice(0, 7)} has no body saying why: ${subject}`);
}
if (bad.length) {
  console.log(bad.join("\n"));
  process.exit(1);
}
console.log(`check-commits: ${base}..HEAD ok`);
