/**
 * Command-line parsing for the operator scripts: node:util's parseArgs, plus the two things it leaves to us.
 * `--help` prints the usage and exits 0; a mistake on the command line (an unknown option, a missing value)
 * prints what is wrong and the usage's first line, and exits 2 — never a stack trace.
 */
import { type ParseArgsConfig, parseArgs } from "node:util";

/** Exit status for a command line the script cannot run with (as getopt-style tools use). */
export const USAGE_EXIT_CODE = 2;

type Options = NonNullable<ParseArgsConfig["options"]>;

/** A mistake the operator can fix by changing the command line; the script turns it into exit 2. */
export class UsageError extends Error {
  override name = "UsageError";
}

/**
 * parseArgs with a `--help`/`-h` flag added. With `--help` anywhere it prints `usage` and exits 0; on a parse
 * error it prints the error and the usage's first line to stderr and exits 2.
 */
export function parseCommandLine<const T extends Options>(
  options: T,
  usage: string,
  args: string[] = process.argv.slice(2),
) {
  // Looked for before parsing, so that `--help` wins over any other mistake on the same line.
  const beforeTerminator = args.includes("--") ? args.slice(0, args.indexOf("--")) : args;
  if (beforeTerminator.includes("--help") || beforeTerminator.includes("-h")) {
    process.stdout.write(`${usage.trimEnd()}\n`);
    process.exit(0);
  }
  const config = {
    options: { ...options, help: { type: "boolean", short: "h" } },
    args,
    strict: true,
    allowPositionals: false,
  } as const;
  try {
    return parseArgs(config).values;
  } catch (error) {
    exitWithUsageError(describeParseError(error), usage);
  }
}

/** Prints `message` and the usage's first line to stderr and exits 2. */
export function exitWithUsageError(message: string, usage: string): never {
  const synopsis = usage.trimStart().split("\n")[0] ?? "";
  process.stderr.write(`error: ${message}\n${synopsis}\n(--help lists every option)\n`);
  process.exit(USAGE_EXIT_CODE);
}

/** parseArgs' messages are long (they explain `--`); the operator needs the first sentence. */
function describeParseError(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const code = "code" in error ? error.code : undefined;
  const unknown = error.message.match(/^Unknown option '([^']+)'/);
  if (code === "ERR_PARSE_ARGS_UNKNOWN_OPTION" && unknown !== null) return `unknown option ${unknown[1]}`;
  const positional = error.message.match(/^Unexpected argument '([^']+)'/);
  if (code === "ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL" && positional !== null)
    return `unexpected argument ${positional[1]}`;
  return (error.message.split(/\.(\s|$)/)[0] ?? error.message).trim();
}
