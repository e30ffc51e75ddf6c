import { createSocket } from 'node:dgram';
import { describe, expect, it } from 'vitest';
import { BeError } from '../../src/errors.js';
import { bindFailureMessage, bindUdp } from '../../services/udp.js';

const options = { address: '0.0.0.0', port: 69, service: 'tftp', keys: { address: 'tftp.address', port: 'tftp.port' } };
const errno = (code: string) => Object.assign(new Error(code), { code });

describe('UDP bind failures become one line naming the key and the fix', () => {
  it('EACCES on a privileged port', () => {
    expect(bindFailureMessage(errno('EACCES'), options)).toBe(
      'tftp: cannot bind UDP 0.0.0.0:69: permission denied (port 69 is privileged): run as root or set tftp.port to 1024 or higher, e.g. --set tftp.port=6969',
    );
  });

  it('EADDRINUSE', () => {
    expect(bindFailureMessage(errno('EADDRINUSE'), options)).toBe(
      'tftp: cannot bind UDP 0.0.0.0:69: address already in use (another server holds port 69): stop it or set tftp.port to a free port',
    );
  });

  it('EADDRNOTAVAIL names the address key', () => {
    expect(bindFailureMessage(errno('EADDRNOTAVAIL'), { ...options, address: '192.0.2.1' })).toMatch(/set tftp\.address to one of its addresses/);
  });

  it('a real EADDRINUSE rejects with BeError E_BIND and leaves no socket behind', async () => {
    const holder = createSocket('udp4');
    await new Promise<void>((resolve) => holder.bind(0, '127.0.0.1', () => resolve()));
    try {
      const port = holder.address().port;
      const attempt = bindUdp({ ...options, address: '127.0.0.1', port });
      await expect(attempt).rejects.toBeInstanceOf(BeError);
      await expect(attempt).rejects.toMatchObject({ code: 'E_BIND', exitStatus: 1 });
      await expect(attempt).rejects.toThrow(`127.0.0.1:${port}: address already in use`);
    } finally {
      holder.close();
    }
  });

  it('a real EADDRNOTAVAIL (an address this machine does not have)', async () => {
    await expect(bindUdp({ ...options, address: '192.0.2.1', port: 0 })).rejects.toMatchObject({ code: 'E_BIND' });
  });
});
