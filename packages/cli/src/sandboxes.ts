// `podflare ls | exec | rm`.
import type { ExecEvent, ListSandboxesResponse } from "@podflare/protocol";
import { call } from "./client.js";

export async function lsCommand(_args: string[]): Promise<number> {
  const { sandboxes } = (await (await call("GET", "/v1/sandboxes")).json()) as ListSandboxesResponse;
  if (!sandboxes.length) {
    console.log("no sandboxes");
    return 0;
  }
  console.log(["ID".padEnd(36), "STATE".padEnd(8), "TEMPLATE".padEnd(16), "MEMORY", "CREATED"].join("  "));
  for (const s of sandboxes) {
    console.log([s.id.padEnd(36), s.state.padEnd(8), s.template.padEnd(16), `${s.applied.memory_mb} MB`.padEnd(6), s.created_at].join("  "));
  }
  return 0;
}

export async function execCommand(args: string[]): Promise<number> {
  const bash = args.includes("--bash");
  const [id, code] = args.filter((a) => a !== "--bash");
  if (!id || code === undefined) {
    console.error("usage: podflare exec ID CODE [--bash]");
    return 2;
  }
  const res = await call("POST", `/v1/sandboxes/${id}/exec`, { code, language: bash ? "bash" : "python" });
  let exit = 0;
  let buffered = "";
  const decoder = new TextDecoder();
  for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
    buffered += decoder.decode(chunk, { stream: true });
    let nl: number;
    while ((nl = buffered.indexOf("\n")) !== -1) {
      const event = JSON.parse(buffered.slice(0, nl)) as ExecEvent;
      buffered = buffered.slice(nl + 1);
      if (event.type === "stdout") process.stdout.write(String(event.data));
      else if (event.type === "stderr") process.stderr.write(String(event.data));
      else if (event.type === "exit") exit = Number(event.data);
    }
  }
  return exit;
}

export async function rmCommand(args: string[]): Promise<number> {
  if (!args.length) {
    console.error("usage: podflare rm ID [ID...]");
    return 2;
  }
  for (const id of args) {
    await call("DELETE", `/v1/sandboxes/${id}`);
    console.log(`closed ${id}`);
  }
  return 0;
}
