/**
 * Why a TFTP request or transfer failed, as stable codes, and the one table that maps each code to the
 * wire error packet a client sees (RFC 1350 section 5 error codes, RFC 2347 code 8). Nothing else in the
 * server chooses an error number or the text sent to a client.
 */
export const tftpWireCodes = {
  notDefined: 0,
  fileNotFound: 1,
  accessViolation: 2,
  diskFull: 3,
  illegalOperation: 4,
  unknownTid: 5,
  fileExists: 6,
  noSuchUser: 7,
  optionRefused: 8,
} as const;

export type TftpErrorCode =
  | 'E_TFTP_NOT_FOUND' // no such file under the root
  | 'E_TFTP_ACCESS' // outside the root, not a regular file, or unreadable
  | 'E_TFTP_BAD_PATH' // empty name, NUL, `..` component
  | 'E_TFTP_READ_ONLY' // a write request: this server never accepts uploads
  | 'E_TFTP_BAD_MODE' // a mode other than octet or netascii
  | 'E_TFTP_BUSY' // tftp.maxTransfers transfers already running
  | 'E_TFTP_UNKNOWN_TID' // a datagram for a transfer from someone else
  | 'E_TFTP_ILLEGAL_OP' // a packet that makes no sense in the transfer's state
  | 'E_TFTP_TIMEOUT' // the peer stopped answering
  | 'E_TFTP_READ' // the file source failed while reading
  | 'E_TFTP_SHUTDOWN'; // the server is closing

interface WireError {
  code: number;
  message: string;
}

/** The only mapping from failure to what the client reads. Texts are short: some ROMs print them verbatim. */
const wire: Record<TftpErrorCode, WireError> = {
  E_TFTP_NOT_FOUND: { code: tftpWireCodes.fileNotFound, message: 'File not found' },
  E_TFTP_ACCESS: { code: tftpWireCodes.accessViolation, message: 'Access violation' },
  E_TFTP_BAD_PATH: { code: tftpWireCodes.accessViolation, message: 'Access violation' },
  E_TFTP_READ_ONLY: { code: tftpWireCodes.accessViolation, message: 'Read-only server' },
  E_TFTP_BAD_MODE: { code: tftpWireCodes.illegalOperation, message: 'Unsupported transfer mode' },
  E_TFTP_BUSY: { code: tftpWireCodes.notDefined, message: 'Server busy, try again later' },
  E_TFTP_UNKNOWN_TID: { code: tftpWireCodes.unknownTid, message: 'Unknown transfer ID' },
  E_TFTP_ILLEGAL_OP: { code: tftpWireCodes.illegalOperation, message: 'Illegal TFTP operation' },
  E_TFTP_TIMEOUT: { code: tftpWireCodes.notDefined, message: 'Timed out' },
  E_TFTP_READ: { code: tftpWireCodes.notDefined, message: 'Read error' },
  E_TFTP_SHUTDOWN: { code: tftpWireCodes.notDefined, message: 'Server shutting down' },
};

/** A refusal or failure with a stable code; `detail` is for our log, never sent to the client. */
export class TftpError extends Error {
  override readonly name = 'TftpError';
  constructor(
    readonly code: TftpErrorCode,
    readonly detail: string,
    options?: { cause?: unknown },
  ) {
    super(`${code}: ${detail}`, options);
  }
}

export function isTftpError(err: unknown): err is TftpError {
  return err instanceof TftpError;
}

export function wireError(code: TftpErrorCode): WireError {
  return wire[code];
}
