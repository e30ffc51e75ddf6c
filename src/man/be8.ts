/**
 * be(8), from the program itself (cli/program.ts): the synopsis, the commands with their arguments and
 * options, in the order `be --help` lists them, so a new command or option is in the manual by itself.
 * What the program cannot say comes from src/man/be8-prose.ts.
 */
import type { Argument, Command, Option } from 'commander';
import { allKeys } from '../config/docs.js';
import { arg, inline, macro, render, type InlineContext } from './mdoc.js';
import { seeAlso, title } from './page.js';
import * as prose from './be8-prose.js';

const context: InlineContext = { keys: new Set(allKeys().map((key) => key.path)), self: 'be(8)', program: 'be' };

interface Entry {
  /** `config show` for `be config show`. */
  path: string;
  command: Command;
}

/** Every command and subcommand, depth first. */
export function commandEntries(program: Command, parent = ''): Entry[] {
  return program.commands.flatMap((command) => {
    const path = parent === '' ? command.name() : `${parent} ${command.name()}`;
    return [{ path, command }, ...commandEntries(command, path)];
  });
}

function valueName(option: Option): string | undefined {
  return /[<[]([^>\]]+)[>\]]/.exec(option.flags)?.[1];
}

/** `Fl p Ar root`: an option as mdoc, short form, or `Fl -mirror Ar root` when `long` or there is none. */
function optionMacros(option: Option, long = false): string {
  const flag = (long ? option.long : (option.short ?? option.long))!;
  const value = valueName(option);
  const text = `Fl ${arg(flag.slice(1))}`;
  if (value === undefined) return text;
  return option.optional ? `${text} Op Ar ${arg(value)}` : `${text} Ar ${arg(value)}`;
}

/** An argument that takes the words after `--` says so in its description. */
function afterDashes(argument: Argument): boolean {
  return argument.variadic && /\bafter --/.test(argument.description);
}

function argumentMacros(argument: Argument): string {
  const text = `Ar ${arg(argument.name())}${argument.variadic ? ' ...' : ''}`;
  const words = afterDashes(argument) ? `Fl - ${text}` : text;
  return argument.required ? words : `Op ${words}`;
}

function visibleOptions(command: Command): Option[] {
  return command.options.filter((option) => !option.hidden);
}

/** One command of the SYNOPSIS. */
function synopsisOf(entry: Entry): string[] {
  return [
    '.Nm',
    macro('Cm', ...entry.path.split(' ')),
    ...visibleOptions(entry.command).map((option) => `.${option.mandatory ? '' : 'Op '}${optionMacros(option)}`),
    ...entry.command.registeredArguments.map((argument) => `.${argumentMacros(argument)}`),
  ];
}

/** A command's one-line description as the sentence that opens its subsection. */
function sentence(text: string): string {
  const capital = text.charAt(0).toUpperCase() + text.slice(1);
  return /[.!?]$/.test(capital) ? capital : `${capital}.`;
}

function optionText(option: Option): string {
  const extras: string[] = [];
  const choices = option.argChoices?.filter((choice) => !option.description.includes(choice)) ?? [];
  if (choices.length > 0) extras.push(`one of ${option.argChoices!.join(', ')}`);
  const shown = option.defaultValue;
  if (shown !== undefined && typeof shown !== 'boolean' && !(Array.isArray(shown) && shown.length === 0)) extras.push(`default \`${String(shown)}\``);
  return extras.length > 0 ? `${option.description} (${extras.join('; ')})` : option.description;
}

/** The arguments and options of a command as a tag list. */
function optionList(command: Command): string[] {
  const items: string[] = [];
  for (const argument of command.registeredArguments) {
    if (!argument.description) continue;
    items.push(`.It ${argumentMacros(argument).replace(/^Op /, '')}`, ...inline(argument.description, context));
  }
  for (const option of visibleOptions(command)) {
    const head = option.short && option.long ? `${optionMacros(option)} , ${optionMacros(option, true)}` : optionMacros(option);
    items.push(`.It ${head}`, ...inline(optionText(option), context));
  }
  return items.length > 0 ? ['.Bl -tag -width Ds', ...items, '.El'] : [];
}

function subsection(entry: Entry): string[] {
  const words = entry.command.description() ? inline(sentence(entry.command.description()), context) : [];
  const more = prose.commands[entry.path];
  return [`.Ss be ${entry.path}`, ...words, ...(more ? ['.Pp', ...render(more, context)] : []), ...optionList(entry.command)];
}

/** The .Nd line: the description, with what it holds (.Fx) on lines of its own. */
function nameDescription(text: string): string[] {
  const [first, ...rest] = inline(text, context);
  return first === undefined ? ['.Nd'] : first.startsWith('.') ? ['.Nd', first, ...rest] : [`.Nd ${first}`, ...rest];
}

function tagList(items: readonly [string, string][], head: (name: string) => string): string[] {
  return ['.Bl -tag -width Ds', ...items.flatMap(([name, text]) => [head(name), ...inline(text, context)]), '.El'];
}

export function beManual(program: Command): string {
  const entries = commandEntries(program);
  // Only commands that run something get a synopsis; `be vm` and `be config` are their subcommands.
  const leaves = entries.filter((entry) => entry.command.commands.length === 0);
  const globals = visibleOptions(program);
  const lines = [
    ...title('be', 8, nameDescription(program.description())),
    '.Sh SYNOPSIS',
    '.Nm',
    ...globals.map((option) => `.Op ${optionMacros(option)}`),
    '.Ar command',
    '.Op Ar argument ...',
    ...leaves.flatMap(synopsisOf),
    '.Sh DESCRIPTION',
    ...render(prose.description, context),
    ...optionList(program),
    '.Pp',
    ...render(prose.afterGlobalOptions, context),
    ...entries.flatMap(subsection),
    '.Sh ENVIRONMENT',
    ...tagList(
      prose.environment,
      (names) =>
        `.It ${names
          .split(', ')
          .map((name) => `Ev ${arg(name)}`)
          .join(' , ')}`,
    ),
    '.Sh FILES',
    ...tagList(prose.files, (name) => `.It ${macro('Pa', name).slice(1)}`),
    '.Sh EXIT STATUS',
    ...tagList(prose.statuses, (name) => `.It ${name}`),
    '.Pp',
    ...render(prose.exitStatusNotes, context),
    '.Sh EXAMPLES',
    ...render(prose.examples, context),
    ...seeAlso(prose.seeAlso),
    '.Sh STANDARDS',
    ...tagList(prose.standards, (name) => `.It ${name}`),
    '.Pp',
    ...render(prose.standardsNotes, context),
    '.Sh HISTORY',
    ...render(prose.history, context),
    '.Sh CAVEATS',
    ...render(prose.caveats, context),
  ];
  return `${lines.join('\n')}\n`;
}
