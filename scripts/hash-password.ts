// Prints the scrypt hash of a dashboard password for `dashboard.passwordHash` in the config, so
// the plain password never has to be written to a file. Reads the password from stdin (so it
// stays out of the shell history and the process list):  npm run -s hash-password < file
//   or interactively:  npm run -s hash-password
import { hashPassword } from "../server/http/auth/passwordHash.ts";

async function readStdin(): Promise<string> {
  if (process.stdin.isTTY) process.stderr.write("Dashboard password (at least 8 characters), then Enter: ");
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) {
    chunks.push(c as Buffer);
    if (process.stdin.isTTY && c.toString().includes("\n")) break;
  }
  return Buffer.concat(chunks)
    .toString("utf8")
    .replace(/\r?\n$/, "");
}

const password = await readStdin();
if (password.length < 8) {
  console.error("the password must have at least 8 characters");
  process.exit(2);
}
console.log(await hashPassword(password));
