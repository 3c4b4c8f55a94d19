// Boolean flags as Go's cobra/pflag read them (conftest's and opa's command lines): besides
// `--flag`, `--flag=VALUE` with any value strconv.ParseBool accepts (`--no-color=true`,
// `--fail-on-warn=false`, `--quiet=1`); `--flag VALUE` leaves VALUE a positional argument.
// commander knows only `--flag`, so the arguments are rewritten before it parses them: a true
// value becomes `--flag`, a false one the flag's opposite (`--no-flag`, or `--color` for
// `--no-color`), added to the command as a hidden option when it has none, so that a false given
// on the command line still overrides a configuration file.

import { Option, type Command } from "commander";

export class FlagValueError extends Error {}

/** Go's strconv.ParseBool. */
function parseGoBool(s: string): boolean | undefined {
  if (["1", "t", "T", "TRUE", "true", "True"].includes(s)) return true;
  if (["0", "f", "F", "FALSE", "false", "False"].includes(s)) return false;
  return undefined;
}

/** The long flag that sets the opposite value: `--no-x` for `--x`, `--x` for `--no-x`. */
function oppositeFlag(o: Option): string {
  const name = o.long!.slice(2);
  return o.negate ? `--${name.slice(3)}` : `--no-${name}`;
}

/**
 * `args` (the arguments after the subcommand's name) with `--flag=VALUE` of the command's
 * boolean flags rewritten for commander; throws FlagValueError, worded as pflag, for a value
 * that is not a boolean.
 */
export function goBoolFlags(cmd: Command, args: string[]): string[] {
  const out: string[] = [];
  const options = cmd.options as readonly Option[];
  const byLong = (flag: string) => options.find((o) => o.long === flag);
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === "--") {
      out.push(...args.slice(i));
      break;
    }
    const eq = a.indexOf("=");
    const opt = a.startsWith("--") ? byLong(eq < 0 ? a : a.slice(0, eq)) : undefined;
    if (!opt) {
      // The value of a short option that takes one (`-p dir`) is never a flag.
      const short = a.length === 2 && a.startsWith("-") ? options.find((o) => o.short === a) : undefined;
      out.push(a);
      if (short && (short.required || short.optional) && i + 1 < args.length) out.push(args[++i]);
      continue;
    }
    if (opt.required || opt.optional) {
      out.push(a);
      if (eq < 0 && opt.required && i + 1 < args.length) out.push(args[++i]);
      continue;
    }
    if (eq < 0) {
      out.push(a);
      continue;
    }
    const value = a.slice(eq + 1);
    const b = parseGoBool(value);
    if (b === undefined) {
      throw new FlagValueError(`invalid argument ${JSON.stringify(value)} for "${opt.long}" flag: strconv.ParseBool: parsing ${JSON.stringify(value)}: invalid syntax`);
    }
    if (b) {
      out.push(opt.long!);
      continue;
    }
    const opposite = oppositeFlag(opt);
    if (!byLong(opposite)) cmd.addOption(new Option(opposite).hideHelp());
    out.push(opposite);
  }
  return out;
}
