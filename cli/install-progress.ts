/**
 * `be install`'s progress: on a terminal one bar per file being downloaded (bytes, rate, ETA) and per
 * set being extracted (entries, against MANIFEST's count); off a terminal (or with --json) one log line
 * per file and per set on stderr, so logs and CI output stay readable.
 */
import { MultiBar, Presets, type SingleBar } from 'cli-progress';
import type { InstallProgress } from '../services/install/install.js';

const mib = (bytes: number) => `${(bytes / 1048576).toFixed(1)} MiB`;

export function progressReporter(stream: NodeJS.WriteStream, quiet: boolean): { progress: InstallProgress; stop(): void } {
  if (!stream.isTTY || quiet) {
    const said = new Set<string>();
    const once = (key: string, line: string) => {
      if (said.has(key)) return;
      said.add(key);
      stream.write(`be: ${line}\n`);
    };
    return {
      progress: {
        download: (set, file, received, total, fromCache) => {
          if (fromCache) once(`get ${file}`, `${set}: ${file} from the cache (${mib(received)})`);
          else if (total !== undefined && received >= total) once(`got ${file}`, `${set}: ${file} downloaded and verified (${mib(received)})`);
          else once(`get ${file}`, `${set}: downloading ${file}${total !== undefined ? ` (${mib(total)})` : ''}`);
        },
        extract: (set, entries, total) => {
          once(`x ${set}`, `${set}: extracting${total !== undefined ? ` ${total} entries` : ''}`);
          if (total !== undefined && entries >= total) once(`x done ${set}`, `${set}: ${entries} entries extracted`);
        },
        note: (message) => stream.write(`be: ${message}\n`),
      },
      stop: () => {},
    };
  }
  const bars = new MultiBar(
    { stream, clearOnComplete: false, hideCursor: true, format: ' {label} [{bar}] {percentage}% {detail}', barsize: 30 },
    Presets.shades_classic,
  );
  const byKey = new Map<string, SingleBar>();
  const bar = (key: string, total: number, label: string) => {
    let b = byKey.get(key);
    if (!b) {
      b = bars.create(Math.max(total, 1), 0, { label: label.padEnd(24).slice(0, 24), detail: '' });
      byKey.set(key, b);
    }
    return b;
  };
  const started = new Map<string, number>();
  return {
    progress: {
      download: (set, file, received, total, fromCache) => {
        const b = bar(`get ${file}`, total ?? received, `${set} ${file}`);
        if (!started.has(file)) started.set(file, Date.now());
        const seconds = (Date.now() - started.get(file)!) / 1000;
        const rate = seconds > 0 ? received / seconds : 0;
        const eta = total !== undefined && rate > 0 ? `${Math.ceil((total - received) / rate)} s` : '';
        b.setTotal(Math.max(total ?? received, 1));
        b.update(received, { detail: fromCache ? `${mib(received)} from the cache` : `${mib(received)} ${mib(rate)}/s ${eta}` });
      },
      extract: (set, entries, total) => {
        const b = bar(`x ${set}`, total ?? entries, `${set} extract`);
        if (total === undefined) b.setTotal(Math.max(entries, 1));
        b.update(entries, { detail: `${entries}${total !== undefined ? `/${total}` : ''} entries` });
      },
      note: (message) => bars.log(`${message}\n`),
    },
    stop: () => bars.stop(),
  };
}
