// Fails when the JSR manifest (deno.json) and the npm manifest (package.json) drift apart, or
// either one misses what a published package needs: same version; each entry point (subpaths such
// as `./redis`, `./client` too) in both export maps, built by tsconfig.build.json, published to JSR, with `types`/`main` and
// `typesVersions` fallbacks for resolvers that ignore "exports"; a license; no runtime dependency.
import { existsSync, readFileSync } from "node:fs";

const root = new URL("..", import.meta.url);
const read = (path) => JSON.parse(readFileSync(new URL(path, root), "utf8"));
const pkg = read("package.json");
const deno = read("deno.json");
const build = read("tsconfig.build.json");
const problems = [];
const bare = (path) => path.replace(/^\.\//, "");

if (pkg.version !== deno.version) {
  problems.push(`version: package.json ${pkg.version} ≠ deno.json ${deno.version}`);
}
const denoExports = typeof deno.exports === "string" ? { ".": deno.exports } : deno.exports;
const npmExports = Object.fromEntries(
  Object.entries(pkg.exports).filter(([key]) => key !== "./package.json"),
);
for (const key of new Set([...Object.keys(denoExports), ...Object.keys(npmExports)])) {
  const source = denoExports[key]?.replace(/^\.\//, "").replace(/\.ts$/, "");
  const built = npmExports[key]?.default?.replace(/^\.\/dist\//, "").replace(/\.js$/, "");
  const types = npmExports[key]?.types?.replace(/^\.\/dist\//, "").replace(/\.d\.ts$/, "");
  if (!source || source !== built || source !== types) {
    problems.push(
      `export "${key}": deno.json ${denoExports[key]} vs package.json ${JSON.stringify(npmExports[key])}`,
    );
    continue;
  }
  const file = `${source}.ts`;
  if (!existsSync(new URL(file, root))) problems.push(`export "${key}": ${file} does not exist`);
  if (!build.files.map(bare).includes(file)) {
    problems.push(`export "${key}": tsconfig.build.json "files" lacks ${file}`);
  }
  if (!deno.publish.include.some((p) => bare(p) === file)) {
    problems.push(`export "${key}": deno.json "publish" lacks ${file}`);
  }
  if (key !== ".") {
    const fallback = pkg.typesVersions?.["*"]?.[key.slice(2)];
    if (fallback?.[0] !== npmExports[key].types) {
      problems.push(
        `export "${key}": package.json "typesVersions" needs "*": { "${key.slice(2)}": ["${
          npmExports[key].types
        }"] }`,
      );
    }
  }
}
if (pkg.main !== npmExports["."]?.default) {
  problems.push(`"main" must be ${npmExports["."]?.default} (resolvers without "exports")`);
}
if (pkg.types !== npmExports["."]?.types) {
  problems.push(`"types" must be ${npmExports["."]?.types} (resolvers without "exports")`);
}
for (const field of ["repository", "homepage", "bugs", "license"]) {
  if (!pkg[field]) problems.push(`package.json has no "${field}"`);
}
if (pkg.license !== deno.license) {
  problems.push(`license: package.json ${pkg.license} ≠ deno.json ${deno.license}`);
}
if (!existsSync(new URL("LICENSE", root))) problems.push("no LICENSE file");
for (const file of ["LICENSE", "README.md"]) {
  if (!pkg.files.includes(file)) problems.push(`package.json "files" lacks ${file}`);
  if (!deno.publish.include.includes(file)) problems.push(`deno.json "publish" lacks ${file}`);
}
if (pkg.dependencies && Object.keys(pkg.dependencies).length) {
  problems.push("package.json has runtime dependencies");
}
if (problems.length) {
  console.error(problems.join("\n"));
  process.exit(1);
}
console.log("manifests agree");
