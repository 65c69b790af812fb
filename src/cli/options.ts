/**
 * The CLI's option machinery: each command declares its options, every value is checked before
 * any slow start-up, and the help text is generated from the same declarations so it cannot drift.
 * Pure (no tfjs): unit tests import it directly.
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { describeRange, inRange, type NumberRange } from '../core/choices';

/** Bad usage: exit code 2. */
export class UsageError extends Error {}

interface Common {
  help: string;
  short?: string;
}
export type OptionSpec = Common &
  (
    | { kind: 'flag' }
    | { kind: 'string'; arg: string; multiple?: boolean }
    /** `default`: the value when the option is not given, shown in help. */
    | { kind: 'number'; arg: string; range: NumberRange; default?: number }
    | { kind: 'choice'; choices: readonly string[]; default?: string }
    /** Comma-separated integers, each in `range`, with `count` items, e.g. "1,2,4,8". */
    | { kind: 'list'; arg: string; range: NumberRange; count: NumberRange }
  );
export type OptionSet = Readonly<Record<string, OptionSpec>>;

export interface CommandSpec<Context> {
  /** What follows the command's name in the usage line, e.g. '--data PATH... --out DIR'. */
  synopsis: string;
  summary: string;
  options: OptionSet;
  /** Whether the command takes positional arguments (a file, codes); if not, one is a usage error. */
  positionals?: boolean;
  /** Usage checks that involve several options (required ones, bounds, output folders); run before the backend starts. */
  check?(o: Opts): void | Promise<void>;
  run(o: Opts, context: Context): Promise<number>;
}

export function flagName(name: string): string {
  return (name.length === 1 ? '-' : '--') + name;
}

type Value = string | boolean | number | string[] | number[];

/** One command's checked option values. Reading an option the command does not declare is a bug, so it throws. */
export class Opts {
  constructor(
    readonly command: string,
    private readonly declared: OptionSet,
    private readonly values: ReadonlyMap<string, Value>,
    readonly positionals: readonly string[],
  ) {}

  private get(name: string, kind: OptionSpec['kind']): Value | undefined {
    const spec = this.declared[name];
    if (spec?.kind !== kind) throw new Error(`internal: '${this.command}' reads ${flagName(name)} as a ${kind}`);
    return this.values.get(name);
  }
  given(name: string): boolean {
    if (!(name in this.declared)) throw new Error(`internal: '${this.command}' does not declare ${flagName(name)}`);
    return this.values.has(name);
  }
  flag(name: string): boolean {
    return this.get(name, 'flag') === true;
  }
  string(name: string): string | undefined {
    const v = this.get(name, 'string');
    return Array.isArray(v) ? String(v[0]) : (v as string | undefined);
  }
  strings(name: string): string[] | undefined {
    const v = this.get(name, 'string');
    return v === undefined ? undefined : Array.isArray(v) ? v.map(String) : [String(v)];
  }
  /** The value given, else the declared default. */
  number(name: string): number | undefined {
    const v = this.get(name, 'number') as number | undefined;
    const spec = this.declared[name];
    return v ?? (spec.kind === 'number' ? spec.default : undefined);
  }
  list(name: string): number[] | undefined {
    return this.get(name, 'list') as number[] | undefined;
  }
  /** The value given, else the declared default, else `fallback` (for defaults that depend on other options). */
  choice<T extends string>(name: string, fallback?: T): T {
    const v = this.get(name, 'choice') as T | undefined;
    const spec = this.declared[name];
    const chosen = v ?? (spec.kind === 'choice' ? (spec.default as T | undefined) : undefined) ?? fallback;
    if (chosen === undefined) throw new Error(`internal: ${flagName(name)} of '${this.command}' has no default`);
    return chosen;
  }
}

/** parseArgs' configuration for every option of every command; one name has one type everywhere. */
function parseConfig(commands: Readonly<Record<string, CommandSpec<unknown>>>): ParseArgsConfig['options'] {
  const config: NonNullable<ParseArgsConfig['options']> = {};
  for (const [command, spec] of Object.entries(commands)) {
    for (const [name, o] of Object.entries(spec.options)) {
      const entry = {
        type: o.kind === 'flag' ? ('boolean' as const) : ('string' as const),
        multiple: o.kind === 'string' && o.multiple === true,
        ...(o.short ? { short: o.short } : {}),
      };
      const seen = config[name];
      if (seen && (seen.type !== entry.type || seen.multiple !== entry.multiple || seen.short !== entry.short))
        throw new Error(`internal: ${flagName(name)} of '${command}' is declared differently elsewhere`);
      config[name] = entry;
    }
  }
  return config;
}

function checkValue(name: string, spec: OptionSpec, raw: string | boolean | (string | boolean)[]): Value {
  const flag = flagName(name);
  switch (spec.kind) {
    case 'flag':
      return raw === true;
    case 'string':
      return Array.isArray(raw) ? raw.map(String) : String(raw);
    case 'number': {
      const n = Number(raw);
      if (String(raw).trim() === '' || !inRange(spec.range, n))
        throw new UsageError(`${flag} must be ${describeRange(spec.range)} (got '${String(raw)}')`);
      return n;
    }
    case 'choice':
      if (!spec.choices.includes(String(raw)))
        throw new UsageError(`${flag} must be one of ${spec.choices.join(', ')} (got '${String(raw)}')`);
      return String(raw);
    case 'list': {
      const list = String(raw)
        .split(',')
        .map((x) => (x.trim() === '' ? NaN : Number(x)));
      if (!inRange(spec.count, list.length) || !list.every((d) => inRange(spec.range, d))) {
        const { count, range } = spec;
        throw new UsageError(
          `${flag} must be a comma-separated list of ${count.min} to ${count.max} integers from ${range.min} to ${range.max} (got '${String(raw)}')`,
        );
      }
      return list;
    }
  }
}

/**
 * `--minutes -1`: parseArgs takes "-1" for an option and reports an "ambiguous" argument. A value
 * that reads as a negative number is the option's value, so the range check can name the problem.
 */
function joinNegativeValues(args: string[], config: NonNullable<ParseArgsConfig['options']>): string[] {
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (arg === '--') {
      out.push(...args.slice(i));
      break;
    }
    const long = /^--([^=]+)$/.exec(arg)?.[1];
    const short = /^-([^-])$/.exec(arg)?.[1];
    const name = long ?? Object.keys(config).find((k) => short !== undefined && config[k].short === short);
    const next = args[i + 1];
    if (name !== undefined && config[name]?.type === 'string' && next !== undefined && /^-\.?\d/.test(next)) {
      out.push(`--${name}=${next}`);
      i++;
    } else out.push(arg);
  }
  return out;
}

/** Names of the commands that declare an option; for the error that names where it belongs. */
function ownersOf(commands: Readonly<Record<string, CommandSpec<unknown>>>, name: string): string[] {
  return Object.entries(commands)
    .filter(([, spec]) => name in spec.options)
    .map(([command]) => command);
}

/**
 * Parses and checks one command's arguments (`args` excludes the command's name). Throws
 * UsageError for an unknown option, an option the command does not take, or a bad value.
 */
export function parseCommand<C>(commands: Readonly<Record<string, CommandSpec<C>>>, command: string, args: string[]) {
  const all = commands as Readonly<Record<string, CommandSpec<unknown>>>;
  const spec = all[command];
  if (!spec) throw new UsageError(`unknown command '${command}' (try: textvae --help)`);
  const config = parseConfig(all) ?? {};
  let parsed;
  try {
    parsed = parseArgs({
      args: joinNegativeValues(args, config),
      options: config,
      allowPositionals: true,
      strict: true,
    });
  } catch (err) {
    const message = (err as Error).message.split('\n')[0];
    const unknown = /^Unknown option '([^']+)'/.exec(message);
    const ambiguous = /^Option '([^']+)' argument is ambiguous/.exec(message);
    if (ambiguous) {
      const flag = ambiguous[1].match(/--?[\w-]+/g)?.at(-1) ?? ambiguous[1];
      throw new UsageError(`${flag} needs a value (for a value that starts with a dash, write ${flag}=VALUE)`);
    }
    throw new UsageError(unknown ? `unknown option '${unknown[1]}' (try: textvae ${command} --help)` : message);
  }
  const values = new Map<string, Value>();
  for (const [name, raw] of Object.entries(parsed.values)) {
    const option = spec.options[name];
    if (!option) {
      const owners = ownersOf(all, name);
      throw new UsageError(
        `${flagName(name)} does not apply to '${command}'` +
          (owners.length ? ` (it belongs to ${owners.join(', ')})` : ''),
      );
    }
    if (raw !== undefined) values.set(name, checkValue(name, option, raw as string | boolean | (string | boolean)[]));
  }
  if (!spec.positionals && parsed.positionals.length > 0)
    throw new UsageError(`'${command}' takes no arguments (got '${parsed.positionals[0]}')`);
  return new Opts(command, spec.options, values, parsed.positionals);
}

function optionHead(name: string, o: OptionSpec): string {
  const arg =
    o.kind === 'choice'
      ? ` ${o.choices.join('|')}`
      : o.kind === 'flag'
        ? ''
        : ` ${o.arg}${o.kind === 'string' && o.multiple ? '...' : ''}`;
  const short = o.short && o.short !== name ? `-${o.short}, ` : '';
  return `  ${short}${flagName(name)}${arg}`;
}

/** The help of an option with its range and default, generated so that they cannot drift. */
function optionHelp(o: OptionSpec): string {
  const facts: string[] = [];
  if (o.kind === 'number')
    facts.push(o.range.max === Infinity ? `at least ${o.range.min}` : `${o.range.min} to ${o.range.max}`);
  if ((o.kind === 'number' || o.kind === 'choice') && o.default !== undefined) facts.push(`default ${o.default}`);
  if (!facts.length) return o.help;
  // A help that already ends in a remark in parentheses takes the facts inside it: "(0 = off; 0 to 100)".
  return o.help.endsWith(')') ? `${o.help.slice(0, -1)}; ${facts.join('; ')})` : `${o.help} (${facts.join('; ')})`;
}

/** Option lines in two columns, the help aligned two columns past the longest head. */
function optionLines(options: [string, OptionSpec][]): string[] {
  const heads = options.map(([name, o]) => optionHead(name, o));
  const width = Math.max(...heads.map((h) => h.length)) + 2;
  return options.map(([, o], i) => heads[i].padEnd(width) + optionHelp(o));
}

export interface OptionGroup {
  title: string;
  options: OptionSet;
}

/** A command's line: name, synopsis, summary; a synopsis too long for its column puts the summary below. */
function commandLine(name: string, spec: CommandSpec<unknown>): string {
  const head = `  ${name.padEnd(12)} ${spec.synopsis}`;
  const column = 2 + 12 + 1 + 34 + 1;
  return head.length < column ? head.padEnd(column) + spec.summary : `${head}\n${' '.repeat(column)}${spec.summary}`;
}

/**
 * The full usage text: every command, then the options in `groups` (shared sets such as the
 * decoding options), then each command's own options, all generated from the declarations.
 */
export function usageText<C>(
  commands: Readonly<Record<string, CommandSpec<C>>>,
  groups: readonly OptionGroup[],
  header: string,
): string {
  const inGroup = (name: string, o: OptionSpec) => groups.some((g) => g.options[name] === o);
  const lines = [
    header,
    '',
    'usage: textvae <command> [options]   (textvae <command> --help: its options)',
    '',
    'commands:',
  ];
  for (const [name, spec] of Object.entries(commands)) lines.push(commandLine(name, spec as CommandSpec<unknown>));
  for (const g of groups) {
    const users = Object.entries(commands)
      .filter(([, spec]) => Object.entries(g.options).every(([k, o]) => spec.options[k] === o))
      .map(([name]) => name);
    lines.push(
      '',
      `${g.title} (${users.length === Object.keys(commands).length ? 'every command' : users.join(', ')}):`,
    );
    lines.push(...optionLines(Object.entries(g.options)));
  }
  for (const [name, spec] of Object.entries(commands)) {
    const own = Object.entries(spec.options).filter(([k, o]) => !inGroup(k, o));
    if (own.length === 0) continue;
    lines.push('', `${name}:`, ...optionLines(own));
  }
  return lines.join('\n');
}

/** One command's usage: its synopsis, summary and every option it takes. */
export function commandUsage<C>(name: string, spec: CommandSpec<C>): string {
  return [
    `usage: textvae ${name} ${spec.synopsis}`.trimEnd(),
    '',
    spec.summary,
    '',
    'options:',
    ...optionLines(Object.entries(spec.options)),
  ].join('\n');
}
