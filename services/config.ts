/**
 * Where the configuration comes from: `-c FILE`, else /usr/local/etc/be.yaml when it exists, else the
 * embedded config/default.yaml. `--set key=value` overrides apply on top of any of them.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseConfig, type Override } from '../src/config/parse.js';
import type { Config } from '../src/config/schema.js';
import { BeError } from '../src/errors.js';

export const systemConfigPath = '/usr/local/etc/be.yaml';

/** The package's own directory, found from this file whether it runs compiled (dist/) or from source. */
export function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) {
    const parent = dirname(dir);
    if (parent === dir) throw new Error('be: cannot find the package directory');
    dir = parent;
  }
  return dir;
}

export const embeddedConfigPath = join(packageRoot(), 'config', 'default.yaml');

export interface LoadedConfig {
  config: Config;
  /** The file the configuration was read from. */
  file: string;
}

export function chooseConfigFile(explicit?: string): string {
  if (explicit !== undefined) return explicit;
  return existsSync(systemConfigPath) ? systemConfigPath : embeddedConfigPath;
}

export function loadConfig(options: { file?: string; overrides?: readonly Override[] } = {}): LoadedConfig {
  const file = chooseConfigFile(options.file);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const reason = code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : (err as Error).message;
    throw new BeError('E_CONFIG', `${file}: cannot read the configuration: ${reason}`);
  }
  return { config: parseConfig({ text, file }, options.overrides), file };
}
