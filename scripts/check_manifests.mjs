// Fails when the JSR manifest (deno.json) and the npm manifest (package.json) drift apart:
// same version, and each one's export map points at the same entry module (subpaths such as
// `./client` too), and `npm run build` (tsconfig.build.json) emits every one of them.
import { readFileSync } from "node:fs";

const root = new URL("..", import.meta.url);
const pkg = JSON.parse(readFileSync(new URL("package.json", root), "utf8"));
const deno = JSON.parse(readFileSync(new URL("deno.json", root), "utf8"));
const problems = [];
if (pkg.version !== deno.version) problems.push(`version: package.json ${pkg.version} ≠ deno.json ${deno.version}`);
const denoExports = typeof deno.exports === "string" ? { ".": deno.exports } : deno.exports;
const npmExports = pkg.exports;
for (const key of new Set([...Object.keys(denoExports), ...Object.keys(npmExports)])) {
  const source = denoExports[key]?.replace(/^\.\//, "").replace(/\.ts$/, "");
  const built = npmExports[key]?.default?.replace(/^\.\/dist\//, "").replace(/\.js$/, "");
  const types = npmExports[key]?.types?.replace(/^\.\/dist\//, "").replace(/\.d\.ts$/, "");
  if (!source || source !== built || source !== types) {
    problems.push(`export "${key}": deno.json ${denoExports[key]} vs package.json ${JSON.stringify(npmExports[key])}`);
  }
}
const build = JSON.parse(readFileSync(new URL("tsconfig.build.json", root), "utf8"));
for (const [key, source] of Object.entries(denoExports)) {
  if (!build.files?.includes(source.replace(/^\.\//, ""))) problems.push(`export "${key}": tsconfig.build.json does not build ${source}`);
}
if (pkg.dependencies && Object.keys(pkg.dependencies).length) problems.push("package.json has runtime dependencies");
if (problems.length) {
  console.error(problems.join("\n"));
  process.exit(1);
}
console.log("manifests agree");
