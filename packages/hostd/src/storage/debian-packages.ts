// Installing the Debian packages hostd needs when they are missing: set-up's job (`podflare
// setup`, run first by `podflare serve`), never the running daemon's. apt is the only package
// source the host is allowed to use.

import { run } from "./host-command.js";

const pkgName = /^[a-z0-9][a-z0-9+.-]+$/;

/** Which of `packages` dpkg does not have installed. */
export async function missingDebianPackages(packages: readonly string[]): Promise<string[]> {
  const missing: string[] = [];
  for (const pkg of packages) {
    const r = await run("dpkg-query", ["-W", "-f=${Status}", pkg], { allowFail: true });
    if (r.code !== 0 || !r.stdout.includes("install ok installed")) missing.push(pkg);
  }
  return missing;
}

/**
 * Make sure the given Debian packages are installed, installing the missing ones with
 * apt-get (running `apt-get update` once if the first attempt fails). Returns the
 * packages it installed. Needs root.
 */
export async function ensureDebianPackages(
  packages: readonly string[],
  log: (msg: string) => void = () => {},
): Promise<string[]> {
  for (const pkg of packages) {
    if (!pkgName.test(pkg)) throw new Error(`not a Debian package name: ${JSON.stringify(pkg)}`);
  }
  const missing = await missingDebianPackages(packages);
  if (missing.length === 0) return [];
  log(`installing Debian packages: ${missing.join(" ")}`);
  const env = { DEBIAN_FRONTEND: "noninteractive" };
  const install = () =>
    run("apt-get", ["install", "-y", "--no-install-recommends", "-q", ...missing], { env, allowFail: true });
  let r = await install();
  if (r.code !== 0) {
    log("apt-get install failed; running apt-get update and trying again");
    await run("apt-get", ["update", "-q"], { env });
    r = await install();
  }
  if (r.code !== 0) {
    const tail = (r.stderr || r.stdout).trim().split("\n").slice(-10).join("\n");
    throw new Error(`could not install ${missing.join(" ")} with apt-get (exit ${r.code}):\n${tail}`);
  }
  return missing;
}
