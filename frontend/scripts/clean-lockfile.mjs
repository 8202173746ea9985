// Strips URLs from package-lock.json (npm keeps the packages' "funding" links
// there): the committed lockfile names no hosts at all.  Registry addresses are
// already left out by .npmrc's omit-lockfile-registry-resolved.  Run after any
// `npm install`: `npm run lock:clean`.
import { readFileSync, writeFileSync } from "node:fs";

const path = new URL("../package-lock.json", import.meta.url);
const lock = JSON.parse(readFileSync(path, "utf8"));
for (const entry of Object.values(lock.packages ?? {})) {
  delete entry.funding;
  delete entry.resolved;
}
const text = JSON.stringify(lock, null, 2) + "\n";
if (/https?:\/\//.test(text)) {
  console.error("package-lock.json still names a URL; look for it and remove it");
  process.exit(1);
}
writeFileSync(path, text);
