// Our own tools around the session's sandboxes: create, list, close, freeze, resume, ports.
import type { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { Sandbox, type AppliedLimits, type SandboxOptions } from "podflare";
import { z } from "zod";
import type { SandboxSession } from "./session.js";
import { guarded, json, onSandbox, onSandboxArgs } from "./tool-kit.js";

const createArgs = {
  template: z.string().optional().describe('Template name, e.g. "default" or "python-datasci" (default: the server\'s).'),
  memory_mb: z.number().int().positive().optional(),
  disk_mb: z.number().int().positive().optional(),
  vcpus: z.number().int().positive().optional(),
  idle_timeout_s: z.number().int().positive().optional().describe("Seconds without a call before the sandbox is closed (or frozen, if persistent)."),
  persistent: z.boolean().optional().describe("Freeze to a Space when idle instead of closing; a persistent sandbox is not closed at session end."),
  egress: z.boolean().optional().describe("Network access out of the sandbox (default true)."),
};

/** The REST API's names, as every other tool answer uses. */
function wireApplied(a: AppliedLimits | undefined): Record<string, unknown> | null {
  if (!a) return null;
  return { memory_mb: a.memoryMb, disk_mb: a.diskMb, vcpus: a.vcpus, idle_timeout_s: a.idleTimeoutS, max_lifetime_s: a.maxLifetimeS, egress: a.egress, persistent: a.persistent };
}

function camelToSnake(name: string): string {
  return name.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
}

export function registerSandboxTools(server: McpServer, session: SandboxSession): void {
  server.registerTool(
    "create_sandbox",
    {
      description:
        "Create a sandbox with these options and make it this session's sandbox (tools without sandbox_id use it). " +
        "Also the way to start over after the session's sandbox died. Returns {sandbox_id, applied, clamped}.",
      inputSchema: createArgs,
    },
    (args) =>
      guarded(async () => {
        const opts: SandboxOptions = {};
        if (args.template !== undefined) opts.template = args.template;
        if (args.memory_mb !== undefined) opts.memoryMb = args.memory_mb;
        if (args.disk_mb !== undefined) opts.diskMb = args.disk_mb;
        if (args.vcpus !== undefined) opts.vcpus = args.vcpus;
        if (args.idle_timeout_s !== undefined) opts.idleTimeoutS = args.idle_timeout_s;
        if (args.persistent !== undefined) opts.persistent = args.persistent;
        if (args.egress !== undefined) opts.egress = args.egress;
        const sb = await session.create(opts);
        return json({ sandbox_id: sb.id, template: sb.template ?? null, applied: wireApplied(sb.applied), clamped: sb.clamped.map(camelToSnake) });
      }),
  );
  server.registerTool(
    "list_sandboxes",
    {
      description: "List the sandboxes this API key can see; `current` marks this session's sandbox.",
      inputSchema: {},
    },
    () =>
      guarded(async () => {
        const all = await Sandbox.listSandboxes(session.connection);
        return json({
          sandboxes: all.map((s) => ({ id: s.id, state: s.state, template: s.template, parent_id: s.parentId, current: s.id === session.currentId })),
        });
      }),
  );
  server.registerTool(
    "close_sandbox",
    {
      description: "Destroy a sandbox. Closing this session's sandbox means the next tool call starts a fresh one.",
      inputSchema: onSandboxArgs,
    },
    (args) =>
      onSandbox(session, args, async (sb) => {
        await sb.close();
        session.forget(sb.id);
        return json({ closed: sb.id });
      }),
  );
  server.registerTool(
    "freeze",
    {
      description: "Freeze a persistent sandbox to disk as a Space; returns {space_id}. Bring it back with resume_space.",
      inputSchema: onSandboxArgs,
    },
    (args) =>
      onSandbox(session, args, async (sb) => {
        const spaceId = await sb.freeze();
        session.forget(sb.id);
        return json({ sandbox_id: sb.id, space_id: spaceId });
      }),
  );
  server.registerTool(
    "resume_space",
    {
      description: "Resume a frozen Space as a new sandbox, which becomes this session's sandbox. A Space resumes once.",
      inputSchema: { space_id: z.string().min(1).describe("The id freeze returned.") },
    },
    (args) =>
      guarded(async () => {
        const sb = await Sandbox.resume(args.space_id, session.connection);
        session.adopt(sb, { owned: true, current: true });
        return json({ sandbox_id: sb.id, space_id: args.space_id });
      }),
  );
  server.registerTool(
    "port_url",
    {
      description:
        "URL that proxies HTTP to a port inside the sandbox (start a server bound to 0.0.0.0 first). " +
        "Requests to it need the same Authorization header as the API.",
      inputSchema: { port: z.number().int().min(1).max(65535), ...onSandboxArgs },
    },
    (args) => onSandbox(session, args, async (sb) => json({ sandbox_id: sb.id, port: args.port, url: `${session.publicUrl()}/v1/sandboxes/${sb.id}/ports/${args.port}/` })),
  );
}
