// `podflare ls | exec | rm`, through the TypeScript SDK (PODFLARE_HOSTD_URL, PODFLARE_API_KEY).
import { Sandbox } from "podflare";

export async function lsCommand(_args: string[]): Promise<number> {
  const sandboxes = await Sandbox.listSandboxes();
  if (!sandboxes.length) {
    console.log("no sandboxes");
    return 0;
  }
  console.log(["ID".padEnd(36), "STATE".padEnd(8), "TEMPLATE".padEnd(16), "MEMORY", "CREATED"].join("  "));
  for (const s of sandboxes) {
    console.log([s.id.padEnd(36), s.state.padEnd(8), s.template.padEnd(16), `${s.applied.memoryMb} MB`.padEnd(6), s.createdAt].join("  "));
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
  const sb = await Sandbox.connect(id);
  let exit = 0;
  for await (const event of sb.runCodeStream(code, bash ? "bash" : "python")) {
    if (event.type === "exit") exit = event.data;
    else if (event.type === "stdout" || event.type === "stderr") (event.type === "stdout" ? process.stdout : process.stderr).write(event.data);
  }
  return exit;
}

export async function rmCommand(args: string[]): Promise<number> {
  if (!args.length) {
    console.error("usage: podflare rm ID [ID...]");
    return 2;
  }
  for (const id of args) {
    // connect checks the id exists: an unknown one fails (404) as before, where close() alone
    // would count a missing sandbox as closed.
    await (await Sandbox.connect(id)).close();
    console.log(`closed ${id}`);
  }
  return 0;
}
