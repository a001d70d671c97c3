// Unit tests for the mmdebstrap output parser and the progress renderer (no root needed).
import { test } from "node:test";
import assert from "node:assert/strict";
import { MmdebstrapProgress, type TemplateProgress } from "./mmdebstrap.js";
import { renderProgress } from "./progress-render.js";

// Lines as `mmdebstrap --verbose` 1.3 prints them (trimmed from a real trixie build).
const sample = `I: running apt-get update...
Get:1 http://deb.debian.org/debian trixie InRelease [140 kB]
Get:2 http://deb.debian.org/debian trixie/main amd64 Packages [9679 kB]
I: downloading packages with apt...
0 upgraded, 2 newly installed, 0 to remove and 0 not upgraded.
Get:1 http://deb.debian.org/debian trixie/main amd64 gcc-14-base amd64 14.2.0-19 [49.4 kB]
Get:2 http://deb.debian.org/debian trixie/main amd64 libc6 amd64 2.41-12+deb13u5 [2850 kB]
I: extracting archives...
I: installing essential packages...
Unpacking gcc-14-base:amd64 (14.2.0-19) ...
Unpacking libc6:amd64 (2.41-12+deb13u5) ...
Setting up gcc-14-base:amd64 (14.2.0-19) ...
Setting up libc6:amd64 (2.41-12+deb13u5) ...
I: installing remaining packages inside the chroot...
0 upgraded, 1 newly installed, 0 to remove and 0 not upgraded.
Get:1 http://deb.debian.org/debian trixie/main amd64 python3 amd64 3.13.5-1 [28.2 kB]
Unpacking python3 (3.13.5-1) ...
Setting up python3 (3.13.5-1) ...
I: cleaning package lists and apt cache...
I: creating tarball...
I: success in 22.3 seconds`;

test("mmdebstrap output becomes phases with package counts", () => {
  const events: TemplateProgress[] = [];
  const parser = new MmdebstrapProgress("default", (e) => events.push(e));
  for (const line of sample.split("\n")) parser.line(line);
  const phases = events.map((e) => e.phase).filter((p, i, a) => p !== a[i - 1]);
  assert.deepEqual(phases, ["resolving", "downloading", "extracting", "installing", "resolving", "downloading", "installing", "packing"]);
  const downloads = events.filter((e) => e.phase === "downloading" && e.message !== "resolving dependencies");
  assert.deepEqual(downloads.pop(), { template: "default", phase: "downloading", done: 3, total: 3, message: "python3" });
  const installs = events.filter((e) => e.phase === "installing");
  assert.deepEqual(installs.pop(), { template: "default", phase: "installing", done: 3, total: 3, message: "setting up python3" });
  assert.ok(events.every((e) => e.message.length > 0));
});

function fakeStream(isTTY: boolean) {
  const chunks: string[] = [];
  return { chunks, stream: { isTTY, columns: 80, write: (c: string) => chunks.push(c) } };
}

test("renderProgress redraws one line with a bar on a TTY", () => {
  const { chunks, stream } = fakeStream(true);
  const render = renderProgress(stream);
  render({ template: "default", phase: "downloading", done: 5, total: 10, message: "libc6" });
  render({ template: "default", phase: "downloading", done: 10, total: 10, message: "python3" });
  render({ template: "default", phase: "done", message: "template default ready" });
  assert.ok(chunks.every((c) => c === "\n" || c.startsWith("\r")));
  assert.match(chunks[0]!, /downloading +\[#{12}\.{12}\] 5\/10 +libc6/);
  assert.equal(chunks.at(-1), "\n");
  assert.ok(chunks.every((c) => c.replace(/\x1b\[K/, "").length <= 81));
});

test("renderProgress prints plain lines per phase and quarter elsewhere", () => {
  const { chunks, stream } = fakeStream(false);
  const render = renderProgress(stream);
  render({ template: "default", phase: "resolving", message: "updating package lists" });
  for (let i = 1; i <= 100; i++) render({ template: "default", phase: "downloading", done: i, total: 100, message: `p${i}` });
  render({ template: "default", phase: "done", message: "ready" });
  render.end();
  assert.ok(chunks.every((c) => c.endsWith("\n") && !c.includes("\r")));
  // resolving, downloading at 1, 25, 50, 75, 100, done
  assert.equal(chunks.length, 7);
});
