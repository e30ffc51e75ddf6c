/**
 * pino: JSON lines on stdout for machines (daemon(8) and syslog keep them), pretty lines when a person
 * watches a terminal. Services take child loggers: `log.child({ svc: 'tftp' })`, then `client`, `mac`, `xid`.
 */
import { pino, type Logger, type LevelWithSilent } from 'pino';
import pretty from 'pino-pretty';

export type { Logger };

export interface LoggerOptions {
  level: LevelWithSilent;
  /** Force pretty or JSON output; default: pretty when stdout is a terminal. */
  pretty?: boolean;
  /** Where lines go; default stdout. */
  destination?: NodeJS.WritableStream;
}

export function createLogger(options: LoggerOptions): Logger {
  const base = { level: options.level, base: { pid: process.pid } };
  const wantPretty = options.pretty ?? (options.destination === undefined && process.stdout.isTTY === true);
  if (wantPretty) {
    // sync: a log line written before a fatal exit must not be lost in a worker.
    return pino(base, pretty({ sync: true, translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname', destination: options.destination ?? 1 }));
  }
  return pino(base, options.destination ?? pino.destination({ dest: 1, sync: true }));
}
