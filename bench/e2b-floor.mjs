// The E2B SDKs' own floor on this machine: the calls of bench/e2b.mjs against a stand-in server
// (a child process) that answers each at once with hostd's exact bytes, beside our TypeScript
// SDK's calls against the same stand-in. What is left is client cost only: the best the E2B
// paths can do against any server, and the smallest E2B/ours ratio any hostd can reach.
// Usage: node bench/e2b-floor.mjs (counts: bench/knobs.mjs); bench/e2b.mjs runs the same
// stand-in beside hostd, interleaved, and says what ratio is reachable at best.
import { spawn } from "node:child_process";
import http from "node:http";
import { once } from "node:events";
import { fileURLToPath } from "node:url";
import { knobs } from "./knobs.mjs";
import { printTable, summarize, time } from "./stats.mjs";

const ID = "sbx_00000000000000000000000000000001";
const TOKEN = "t".repeat(110);
// bench/e2b.mjs's creates each follow a wait for the warm pool: measured here too after a pause,
// when both client and stand-in have gone cold (caches, branch predictors, CPU clock).
const PAUSE_MS = 100;

/** The stand-in: hostd's answers, fixed, sent as soon as the request body has arrived. */
function serve() {
  const now = () => Date.now();
  const frame = (flags, message) => {
    const json = Buffer.from(JSON.stringify(message));
    const head = Buffer.alloc(5);
    head.writeUInt8(flags, 0);
    head.writeUInt32BE(json.length, 1);
    return Buffer.concat([head, json]);
  };
  const json = (res, status, body) => {
    const text = JSON.stringify(body);
    res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(text) });
    res.end(text);
  };
  const server = http.createServer((req, res) => {
    req.resume();
    req.on("end", () => {
      const url = new URL(req.url, "http://x");
      const port = req.headers["e2b-sandbox-port"];
      if (req.method === "POST" && port === "49999" && url.pathname === "/execute") {
        res.writeHead(200, { "content-type": "application/x-ndjson", "cache-control": "no-store" });
        res.write('{"type":"result","is_main_result":true,"text":"2"}\n');
        res.end('{"type":"end_of_execution"}\n');
      } else if (req.method === "POST" && port === "49983" && url.pathname === "/process.Process/Start") {
        res.writeHead(200, { "content-type": "application/connect+json" });
        res.write(frame(0, { event: { start: { pid: 42 } } }));
        res.write(frame(0, { event: { end: { exitCode: 0, exited: true, status: "exit status 0" } } }));
        res.end(frame(2, {}));
      } else if (req.method === "POST" && /^\/(v2\/)?sandboxes$/.test(url.pathname)) {
        json(res, 201, { sandboxID: ID, templateID: "default", alias: "base", clientID: "podflare-selfhosted", envdVersion: "0.5.7", envdAccessToken: TOKEN, trafficAccessToken: TOKEN, domain: null });
      } else if (req.method === "DELETE") {
        res.writeHead(204);
        res.end();
      } else if (req.method === "POST" && url.pathname === "/v1/sandboxes") {
        json(res, 200, { id: ID, state: "ready", template: "default", applied: { memory_mb: 1024, disk_mb: 4096, vcpus: 2, idle_timeout_s: 300, max_lifetime_s: 1800, egress: true, persistent: false }, clamped: [], warnings: [] });
      } else if (req.method === "POST" && url.pathname === `/v1/sandboxes/${ID}/exec`) {
        res.writeHead(200, { "content-type": "application/x-ndjson", "cache-control": "no-store" });
        res.write(`{"type":"result","data":{"text/plain":"2"},"is_main_result":true,"seq":0,"ts":${now()}}\n`);
        res.end(`{"type":"exit","data":0,"seq":1,"ts":${now()}}\n`);
      } else {
        process.stderr.write(`stand-in: unexpected ${req.method} ${req.url} port=${port}\n`);
        json(res, 404, { code: 404, message: "not in the stand-in" });
      }
    });
  });
  server.listen(0, "127.0.0.1", () => process.stdout.write(`${server.address().port}\n`));
  process.stdin.on("end", () => process.exit(0));
  process.stdin.resume();
}

/** Starts the stand-in in a child process (a server of its own, as hostd is): its URL, and close. */
export async function startStandIn() {
  // Its stdin is ours: it ends when this process does, however that happens.
  const child = spawn(process.execPath, [fileURLToPath(import.meta.url), "--serve"], { stdio: ["pipe", "pipe", "inherit"] });
  const [line] = await once(child.stdout, "data");
  return { url: `http://127.0.0.1:${String(line).trim()}`, close: () => child.kill() };
}

async function run() {
  const standIn = await startStandIn();
  const url = standIn.url;
  process.env.E2B_API_URL = url;
  process.env.E2B_SANDBOX_URL = url;
  process.env.E2B_API_KEY = "any";
  process.env.PODFLARE_HOSTD_URL = url;
  const { Sandbox: E2bSandbox } = await import("e2b");
  const { Sandbox: E2bInterpreter } = await import("@e2b/code-interpreter");
  const { Sandbox } = await import("podflare");
  const runs = knobs.coreRuns;
  const s = { hotE2b: [], hotOurs: [], cmdE2b: [], createE2b: [], createOurs: [], pausedE2b: [], pausedOurs: [] };
  const pause = () => new Promise((r) => setTimeout(r, PAUSE_MS));
  try {
    const e2b = await E2bInterpreter.create("base");
    const ours = await Sandbox.create();
    for (let i = 0; i < runs + 10; i++) {
      const keep = i >= 10; // the first runs warm up both clients
      const hotE2b = await time(async () => {
        const ex = await e2b.runCode("1+1");
        if (ex.text !== "2") throw new Error("stand-in answer not read");
      });
      const hotOurs = await time(async () => {
        const r = await ours.runCode("1+1");
        if (r.exitCode !== 0) throw new Error(r.stderr);
      });
      const cmdE2b = await time(async () => {
        const r = await e2b.commands.run("true");
        if (r.exitCode !== 0) throw new Error(r.stderr);
      });
      const createE2b = await time(() => E2bSandbox.create());
      const createOurs = await time(() => Sandbox.create());
      if (keep) {
        s.hotE2b.push(hotE2b);
        s.hotOurs.push(hotOurs);
        s.cmdE2b.push(cmdE2b);
        s.createE2b.push(createE2b);
        s.createOurs.push(createOurs);
      }
    }
    // Apart from the loop above, whose calls follow each other with no pause.
    for (let i = 0; i < runs; i++) {
      await pause();
      s.pausedE2b.push(await time(() => E2bSandbox.create()));
      await pause();
      s.pausedOurs.push(await time(() => Sandbox.create()));
    }
  } finally {
    standIn.close();
  }
  const hotOurs = { name: "runCode(\"1+1\"), Podflare TypeScript SDK, stand-in", stats: summarize(s.hotOurs) };
  const createOurs = { name: "Sandbox.create, Podflare TypeScript SDK, stand-in", stats: summarize(s.createOurs) };
  const pausedOurs = { name: `Sandbox.create after ${PAUSE_MS} ms idle, Podflare TypeScript SDK, stand-in`, stats: summarize(s.pausedOurs) };
  printTable(`e2b SDK floor: instant stand-in server (${runs} runs each, interleaved)`, [
    hotOurs,
    { name: "runCode(\"1+1\"), @e2b/code-interpreter, stand-in", stats: summarize(s.hotE2b), baseline: hotOurs },
    { name: "commands.run(\"true\"), e2b, stand-in", stats: summarize(s.cmdE2b), baseline: hotOurs },
    createOurs,
    { name: "Sandbox.create, e2b, stand-in", stats: summarize(s.createE2b), baseline: createOurs },
    pausedOurs,
    { name: `Sandbox.create after ${PAUSE_MS} ms idle, e2b, stand-in`, stats: summarize(s.pausedE2b), baseline: pausedOurs },
  ]);
}

if (process.argv.includes("--serve")) serve();
else if (import.meta.url === `file://${process.argv[1]}`) await run();
