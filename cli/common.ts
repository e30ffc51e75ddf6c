/** What every command shares: the global -c/--set options and their parsers. */
import { InvalidArgumentError, type Command } from 'commander';
import { parseOverride, type Override } from '../src/config/parse.js';
import { loadConfig, type LoadedConfig } from '../services/config.js';

export interface GlobalOptions {
  config?: string;
  set: string[];
}

export function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

/** Commander parser for an integer option within bounds; the message names the bounds. */
export function integer(min: number, max: number): (text: string) => number {
  return (text) => {
    const value = Number(text);
    if (!/^-?\d+$/.test(text.trim()) || !Number.isSafeInteger(value) || value < min || value > max) {
      throw new InvalidArgumentError(`expected an integer from ${min} to ${max}`);
    }
    return value;
  };
}

export function overridesOf(options: GlobalOptions): Override[] {
  return options.set.map(parseOverride);
}

/** Load the configuration the global options name. */
export function configFrom(command: Command): LoadedConfig {
  const options = command.optsWithGlobals<GlobalOptions>();
  return loadConfig({ ...(options.config !== undefined ? { file: options.config } : {}), overrides: overridesOf(options) });
}
