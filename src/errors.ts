/**
 * Typed errors with stable codes. Every failure the CLI reports is one of these, so it can print
 * one line and pick the exit status in one place (cli/main.ts). Servers map them to wire errors.
 */
export const ExitStatus = {
  failure: 1,
  usage: 2,
} as const;

export type BeErrorCode =
  | 'E_CONFIG' // the configuration file or a --set value is invalid
  | 'E_USAGE' // a command-line argument is invalid
  | 'E_MAC' // a MAC address could not be parsed
  | 'E_HOST' // a host name is not in hosts[]
  | 'E_BIND' // a socket could not be bound
  | 'E_EXEC' // an external command failed
  | 'E_NET' // sending on the network failed
  | 'E_NOT_RUNNING'; // a command needs the running appliance and none answers

/** Codes for input the user can correct: exit status 2, like a usage error. */
const usageCodes = new Set<BeErrorCode>(['E_CONFIG', 'E_USAGE', 'E_MAC', 'E_HOST']);

export class BeError extends Error {
  override readonly name = 'BeError';
  constructor(
    readonly code: BeErrorCode,
    message: string,
    readonly exitStatus: number = usageCodes.has(code) ? ExitStatus.usage : ExitStatus.failure,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export function isBeError(err: unknown): err is BeError {
  return err instanceof BeError;
}
