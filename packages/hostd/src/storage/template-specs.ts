// What each template contains. The spec hash names the cached tarball and is stored in
// the template's manifest; a template built from another spec hash, another
// RECIPE_VERSION or another uid base is stale and rebuilt by ensureTemplate.

import { createHash } from "node:crypto";
import { PodflareError } from "@podflare/protocol";

/** Bump when the way a tarball becomes a template changes (uid shift, files we add). */
export const RECIPE_VERSION = 4;

export interface TemplateSpec {
  name: string;
  description: string;
  /** Passed to mmdebstrap --include, on top of the minbase variant. */
  packages: readonly string[];
}

const base = ["bash", "coreutils", "python3", "python3-pip", "python3-venv", "curl", "git", "ca-certificates", "procps", "iproute2"];

export const templateSpecs: Readonly<Record<string, TemplateSpec>> = {
  default: {
    name: "default",
    description: "Debian minbase with Python 3, pip, venv, curl, git, iproute2, pandas and numpy",
    // pandas and numpy: Podflare's quickstart and REPL docs import pandas in a plain Sandbox().
    packages: [...base, "python3-pandas", "python3-numpy"],
  },
  "python-datasci": {
    name: "python-datasci",
    description: "default plus pandas, numpy, scipy, matplotlib, scikit-learn, dill",
    packages: [
      ...base,
      "python3-pandas",
      "python3-numpy",
      "python3-scipy",
      "python3-matplotlib",
      "python3-sklearn",
      "python3-dill",
    ],
  },
};

export function templateSpec(name: string): TemplateSpec {
  const spec = Object.hasOwn(templateSpecs, name) ? templateSpecs[name] : undefined;
  if (!spec) {
    throw new PodflareError(
      "template_not_found",
      `unknown template ${JSON.stringify(name)}; known templates: ${Object.keys(templateSpecs).join(", ")}`,
    );
  }
  return spec;
}

/** What goes into the tarball; the mirror does not (any mirror serves the same suite). */
export function specHash(spec: TemplateSpec, suite: string): string {
  const key = JSON.stringify({
    variant: "minbase",
    suite,
    packages: [...spec.packages].sort(),
  });
  return createHash("sha256").update(key).digest("hex").slice(0, 16);
}
