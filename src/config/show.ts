/** `be config show`: the effective configuration as YAML (with its source, and optionally each key's description) or JSON. */
import { stringify } from 'yaml';
import { annotatedYaml } from './annotate.js';
import type { Config } from './schema.js';

export function renderConfig(config: Config, file: string, format: 'yaml' | 'json', options: { comments?: boolean } = {}): string {
  if (format === 'json') return `${JSON.stringify(config, null, 2)}\n`;
  const source = `effective configuration, read from ${file}`;
  if (options.comments)
    return annotatedYaml(config, [source, 'Each key under its description from be.yaml(5); "Default:" marks a value that is not the default.']);
  return `# ${source}\n${stringify(config)}`;
}
