/**
 * The control protocol between `be` commands and a running `be serve`: one JSON object per line over
 * a Unix socket. A request names a method and its parameters; the answer carries the same id and
 * either a result or an error with a stable code. Pure: the socket side is services/control/.
 */

export interface ControlRequest {
  id: number;
  method: string;
  params: Record<string, unknown>;
}

export type ControlResponse = { id: number; result: unknown } | { id: number; error: { code: string; message: string } };

/** Lines longer than this are refused: no request needs more, and a peer must not grow our memory. */
export const maxLineBytes = 64 * 1024;

export class ProtocolError extends Error {
  override readonly name = 'ProtocolError';
}

export function parseRequest(line: string): ControlRequest {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    throw new ProtocolError('not JSON');
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new ProtocolError('a request is a JSON object');
  const { id, method, params } = value as Record<string, unknown>;
  if (typeof id !== 'number' || !Number.isSafeInteger(id)) throw new ProtocolError('id must be an integer');
  if (typeof method !== 'string' || !/^[a-z][a-zA-Z0-9]*(\.[a-z][a-zA-Z0-9]*)*$/.test(method)) {
    throw new ProtocolError('method must be a dotted name such as vm.list');
  }
  if (params !== undefined && (params === null || typeof params !== 'object' || Array.isArray(params))) {
    throw new ProtocolError('params must be an object');
  }
  return { id, method, params: (params as Record<string, unknown> | undefined) ?? {} };
}

export function encodeMessage(message: ControlRequest | ControlResponse): string {
  return `${JSON.stringify(message)}\n`;
}

export function parseResponse(line: string): ControlResponse {
  const value = JSON.parse(line) as Record<string, unknown>;
  if (typeof value.id !== 'number') throw new ProtocolError('response without id');
  if ('error' in value) {
    const error = value.error as { code?: unknown; message?: unknown };
    return { id: value.id, error: { code: String(error?.code ?? 'E_UNKNOWN'), message: String(error?.message ?? 'unknown error') } };
  }
  return { id: value.id, result: value.result };
}
