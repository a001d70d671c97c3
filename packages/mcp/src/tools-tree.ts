// fork, diff, merge_into: driving a fork tree from one session.
import type { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { z } from "zod";
import { boundedDiff } from "./bounded-diff.js";
import type { SandboxSession } from "./session.js";
import { json, onSandbox, onSandboxArgs, sandboxIdArg } from "./tool-kit.js";

const requiredId = (what: string) => sandboxIdArg.unwrap().describe(what);

export function registerTreeTools(server: McpServer, session: SandboxSession): void {
  server.registerTool(
    "fork",
    {
      description:
        "Copy the sandbox n ways from its exact current state (REPL memory and files). Returns {children: [sandbox ids]}; " +
        "pass a child's id as sandbox_id to other tools. Children end with the session.",
      inputSchema: { n: z.number().int().min(1).max(32).optional().describe("How many children, 1 to 32 (default 1)."), ...onSandboxArgs },
    },
    (args) =>
      onSandbox(session, args, async (sb) => {
        const children = await sb.fork(args.n ?? 1);
        for (const child of children) session.adopt(child, { owned: true, current: false });
        return json({ parent: sb.id, children: children.map((c) => c.id) });
      }),
  );
  server.registerTool(
    "diff",
    {
      description:
        "Compare files between the sandbox and other_id (e.g. two fork children): " +
        "{added: only in other_id, removed: only in the sandbox, modified: in both, different}.",
      inputSchema: {
        other_id: requiredId("The sandbox to compare with."),
        paths: z.array(z.string()).optional().describe('Directories to compare (default ["/root", "/tmp"]).'),
        ...onSandboxArgs,
      },
    },
    (args) =>
      onSandbox(session, args, async (sb) => {
        const other = await session.sandbox(args.other_id);
        return json(await boundedDiff(sb, other, args.paths ?? ["/root", "/tmp"]));
      }),
  );
  server.registerTool(
    "merge_into",
    {
      description:
        "Make the sandbox become winner_id, one of its fork children: the sandbox's id now holds the winner's REPL and files, " +
        "and the winner's own id is retired.",
      inputSchema: { winner_id: requiredId("The fork child whose state wins."), ...onSandboxArgs },
    },
    (args) =>
      onSandbox(session, args, async (sb) => {
        await sb.mergeInto(args.winner_id);
        session.forget(args.winner_id);
        return json({ sandbox_id: sb.id, merged: args.winner_id });
      }),
  );
}
