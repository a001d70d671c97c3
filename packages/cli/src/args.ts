// Argument parsing shared by every command. A command parses its whole command line before it
// opens anything (a state dir, the database, the storage pool, a connection), so `--help`, a
// typo or a missing argument never changes the host.

/** A command line that does not fit the command: main prints the message and the usage, exit 2. */
export class UsageError extends Error {
  readonly code = "usage";
  constructor(
    message: string,
    readonly usage: string,
  ) {
    super(message);
    this.name = "UsageError";
  }
}

export interface OptionSpec {
  /** The long name with its dashes: "--tier". */
  name: string;
  /** A one-letter alias: "-n". */
  short?: string;
  /** What the value is called in messages ("N", "PATH"); absent for a flag that takes none. */
  value?: string;
  /** May be given more than once (each value kept); otherwise twice is an error. */
  repeatable?: boolean;
}

export interface CommandSpec {
  /** The command's help text, starting "usage: podflare …". */
  usage: string;
  options?: OptionSpec[];
  /** Names of the positional arguments, all required, e.g. ["ID", "CODE"]. */
  positionals?: string[];
  /** The last positional may repeat (`rm ID [ID...]`). */
  variadic?: boolean;
}

export interface ParsedArgs {
  positionals: string[];
  /** Whether the option (by its long name) was given. */
  has(name: string): boolean;
  /** Its value, or undefined when not given. */
  value(name: string): string | undefined;
  /** Every value of a repeatable option, in order. */
  values(name: string): string[];
}

const isHelp = (a: string) => a === "-h" || a === "--help";

/** -h or --help anywhere before `--` (after it, arguments are data: code, ids). */
export function wantsHelp(args: string[]): boolean {
  const end = args.indexOf("--");
  return (end === -1 ? args : args.slice(0, end)).some(isHelp);
}

/** Parses `args` against `spec`; throws UsageError. Does not look at --help: see parseOrHelp. */
export function parseCommand(spec: CommandSpec, args: string[]): ParsedArgs {
  const fail = (msg: string): never => {
    throw new UsageError(msg, spec.usage);
  };
  const byName = new Map<string, OptionSpec>();
  for (const o of spec.options ?? []) {
    byName.set(o.name, o);
    if (o.short) byName.set(o.short, o);
  }
  const given = new Map<string, string[]>();
  const positionals: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === "--") {
      positionals.push(...args.slice(i + 1));
      break;
    }
    if (!a.startsWith("-") || a === "-") {
      positionals.push(a);
      continue;
    }
    const eq = a.startsWith("--") ? a.indexOf("=") : -1;
    const key = eq === -1 ? a : a.slice(0, eq);
    const o = byName.get(key);
    if (!o) {
      const hint = spec.positionals?.length ? " (put -- before an argument that starts with -)" : "";
      return fail(`unknown option ${key}${hint}`);
    }
    let v = "";
    if (o.value === undefined) {
      if (eq !== -1) fail(`${o.name} takes no value`);
    } else if (eq !== -1) {
      v = a.slice(eq + 1);
    } else {
      const next = args[i + 1];
      // `--name --tier pro` is a forgotten value, not a name "--tier"; `--name=-x` still works.
      if (next === undefined || (next.startsWith("-") && next !== "-")) fail(`${key} needs a value (${o.value})`);
      v = next!;
      i++;
    }
    const list = given.get(o.name) ?? [];
    if (list.length && !o.repeatable) fail(`${o.name} given twice`);
    list.push(v);
    given.set(o.name, list);
  }
  const names = spec.positionals ?? [];
  if (positionals.length < names.length) fail(`missing ${names.slice(positionals.length).join(" ")}`);
  if (positionals.length > names.length && !spec.variadic) fail(`unexpected argument ${JSON.stringify(positionals[names.length])}`);
  return {
    positionals,
    has: (name) => given.has(name),
    value: (name) => given.get(name)?.at(-1),
    values: (name) => given.get(name) ?? [],
  };
}

/** The parsed arguments, or undefined after printing the usage for -h/--help (the command then exits 0). */
export function parseOrHelp(spec: CommandSpec, args: string[]): ParsedArgs | undefined {
  if (wantsHelp(args)) {
    console.log(spec.usage);
    return undefined;
  }
  return parseCommand(spec, args);
}

/**
 * For a command with subcommands (`keys`, `template`): the chosen one and its arguments, or
 * undefined after printing the group's usage for -h/--help/help.
 */
export function subcommand(usage: string, names: readonly string[], args: string[]): { name: string; rest: string[] } | undefined {
  const [sub, ...rest] = args;
  if (sub !== undefined && (isHelp(sub) || sub === "help")) {
    console.log(usage);
    return undefined;
  }
  if (sub === undefined) throw new UsageError(`missing subcommand (${names.join(", ")})`, usage);
  if (sub.startsWith("-")) throw new UsageError(`unknown option ${sub}`, usage);
  if (!names.includes(sub)) throw new UsageError(`unknown subcommand ${JSON.stringify(sub)}`, usage);
  return { name: sub, rest };
}
