/** How `be` commands call the running appliance over its control socket. */
import { createConnection } from 'node:net';
import { encodeMessage, parseResponse } from '../../src/control/protocol.js';
import { BeError, type BeErrorCode } from '../../src/errors.js';

const knownCodes = new Set<string>(['E_CONFIG', 'E_USAGE', 'E_MAC', 'E_HOST', 'E_BIND', 'E_EXEC', 'E_NET', 'E_NOT_RUNNING']);

/** Calls one command; rejects with BeError('E_NOT_RUNNING') when no appliance answers on the socket. */
export function callAppliance(path: string, method: string, params: Record<string, unknown> = {}, timeoutMs = 10_000): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const socket = createConnection(path);
    let buffer = '';
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new BeError('E_NOT_RUNNING', `the appliance on ${path} did not answer ${method} within ${timeoutMs} ms`));
    }, timeoutMs);
    const finish = (fn: () => void) => {
      clearTimeout(timer);
      socket.destroy();
      fn();
    };
    socket.setEncoding('utf8');
    socket.once('connect', () => socket.write(encodeMessage({ id: 1, method, params })));
    socket.on('data', (chunk: string) => {
      buffer += chunk;
      const newline = buffer.indexOf('\n');
      if (newline < 0) return;
      const response = parseResponse(buffer.slice(0, newline));
      if ('error' in response) {
        const code = (knownCodes.has(response.error.code) ? response.error.code : 'E_EXEC') as BeErrorCode;
        finish(() => reject(new BeError(code, response.error.message)));
      } else finish(() => resolve(response.result));
    });
    socket.once('error', (err: NodeJS.ErrnoException) => {
      const notRunning = err.code === 'ENOENT' || err.code === 'ECONNREFUSED';
      finish(() =>
        reject(
          new BeError(
            'E_NOT_RUNNING',
            notRunning ? `be serve is not running (nothing answers on ${path})` : `cannot reach be serve on ${path}: ${err.code ?? err.message}`,
          ),
        ),
      );
    });
  });
}
