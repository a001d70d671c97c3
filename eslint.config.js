// Lint: typescript-eslint's recommended rules over every package and the tests.
import tseslint from "typescript-eslint";

export default tseslint.config(
  { ignores: ["**/dist/**", "**/node_modules/**", "bench/results/**"] },
  ...tseslint.configs.recommended,
  {
    rules: {
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
      "no-empty": ["error", { allowEmptyCatch: true }],
    },
  },
  {
    // Host tools start only through the runner with a minimal environment (host-tools/).
    files: ["packages/hostd/src/**/*.ts"],
    ignores: ["packages/hostd/src/host-tools/**", "packages/hostd/src/**/*.test.ts"],
    rules: {
      "no-restricted-imports": ["error", { paths: [{ name: "node:child_process", allowTypeImports: true, message: "start host tools with spawnTool/spawnToolSync from host-tools/ (minimal environment)" }] }],
    },
  },
);
