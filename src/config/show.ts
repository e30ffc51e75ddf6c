/** `be config show`: the effective configuration as YAML (with its source) or JSON. */
import { stringify } from 'yaml';
import type { Config } from './schema.js';

export function renderConfig(config: Config, file: string, format: 'yaml' | 'json'): string {
  if (format === 'json') return `${JSON.stringify(config, null, 2)}\n`;
  return `# effective configuration, read from ${file}\n${stringify(config)}`;
}
