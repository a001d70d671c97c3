#!/usr/bin/env node
// `podflare`: run hostd, manage templates, and poke at sandboxes from the shell.
import { serve } from "./serve.js";
import { templateCommand } from "./template.js";
import { execCommand, lsCommand, rmCommand } from "./sandboxes.js";
import { downCommand } from "./down.js";
import { keysCommand } from "./keys.js";
import { usageCommand } from "./usage.js";
import { setupCommand } from "./setup.js";
import { describeSdkError } from "./sdk-errors.js";
import { logsCommand } from "./logs.js";
import { UsageError } from "./args.js";

const usage = `usage: podflare <command>

  serve                    start hostd in the foreground (sets up the host on first run)
  serve --install-service  install hostd as the systemd service podflare-hostd and start it
                           (--env-path PATH, default /etc/podflare/hostd.env; --unit-dir DIR)
  logs [-f] [-n N]         hostd's JSON log lines from journald (or --file PATH)
  setup                    install the Debian packages hostd needs and check the host (serve does it first)
  ls                       list sandboxes
  exec [--bash] ID CODE    run code in a sandbox (Python unless --bash); prints output and the last expression's value
  rm ID [ID...]            close sandboxes (each one given, failures reported, exit 1 if any failed)
  template build NAME...   build (or rebuild with --force) a template: default, python-datasci
  template ls              list templates
  down [--force]           unmount the storage pool (no hostd running)
  keys create --tier T --name N [--admin]   create an API key (shown once); keys ls; keys revoke ID
  usage                    sandbox-seconds, GB-seconds, execs and forks of the calling key
  mcp                      MCP server on stdio for Claude, Cursor, … (docs/mcp.md)
  edge --region NAME=URL …  front door for several regions (PODFLARE_REGIONS, PODFLARE_EDGE_ADDR; docs/edge.md)

environment: PODFLARE_HOSTD_ADDR (serve, default 127.0.0.1:7070), PODFLARE_STATE_DIR
(default /var/lib/podflare), PODFLARE_HOSTD_URL and PODFLARE_API_KEY (client commands)

podflare COMMAND --help: that command's usage; it does nothing else.`;

async function main(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  switch (cmd) {
    case "serve":
      return serve(rest);
    case "setup":
      return setupCommand(rest);
    case "ls":
      return lsCommand(rest);
    case "exec":
      return execCommand(rest);
    case "rm":
      return rmCommand(rest);
    case "template":
      return templateCommand(rest);
    case "down":
      return downCommand(rest);
    case "keys":
      return keysCommand(rest);
    case "usage":
      return usageCommand(rest);
    case "mcp":
      return (await import("./mcp.js")).mcpCommand(rest);
    case "logs":
      return logsCommand(rest);
    case "edge":
      return (await import("./edge.js")).edgeCommand(rest); // front door for several regions (docs/edge.md)
    case undefined:
    case "-h":
    case "--help":
    case "help":
      console.log(usage);
      return cmd === undefined ? 2 : 0;
    default:
      console.error(`podflare: unknown command ${JSON.stringify(cmd)}\n\n${usage}`);
      return 2;
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    if (code !== -1) process.exitCode = code;
  },
  (err: Error) => {
    if (err instanceof UsageError) {
      console.error(`podflare: ${err.message}\n\n${err.usage}`);
      process.exit(2);
    }
    console.error(`podflare: ${describeSdkError(err) ?? err.message}`);
    // Exit now: a hostd that failed half-way through start may hold children (the DNS
    // forwarder's IPC channel) that would keep this process alive, failing silently.
    process.exit(1);
  },
);
