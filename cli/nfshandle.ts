/**
 * `be nfshandle PATH [--server IP] [--json]`: the NFS file handle of an exported path, as the kernel
 * wants it in boot.nfsroot.nfshandle (`X` + hex + `X`) with its length, got with the loader's own
 * MOUNT v3 call (or nfs.handleCommand).
 */
import { InvalidArgumentError, type Command } from 'commander';
import { configFrom, integer } from './common.js';

interface Options {
  server?: string;
  json?: boolean;
  v2?: boolean;
  verify?: boolean;
  portmapPort?: number;
  timeout?: number;
}

function absolute(text: string): string {
  if (!text.startsWith('/')) throw new InvalidArgumentError('expected an absolute path such as /ROOT/head');
  return text;
}

export function register(program: Command): void {
  program
    .command('nfshandle')
    .description('print the NFS file handle of an exported path for boot.nfsroot.nfshandle (MOUNT v3 through the portmapper)')
    .argument('<path>', 'the exported path, e.g. /ROOT/head', absolute)
    .option('--server <ip>', 'the NFS server (default server.address, else 127.0.0.1)')
    .option('--v2', 'the 32-byte NFSv2 form for old kernels (no nfshandlelen)')
    .option('--verify', 'prove the handle with an NFSv3 FSINFO call')
    .option('--portmap-port <port>', 'portmapper port (111)', integer(1, 65535))
    .option('--timeout <ms>', 'first reply timeout, doubled on each of 3 retries (1000)', integer(10, 60_000))
    .option('--json', 'print JSON')
    .action(async (path: string, options: Options, command: Command) => {
      const [{ config }, { BeError }, { isIPv4 }, handles, { formatHandle, handleEnv, toV2Handle }] = await Promise.all([
        configFrom(command),
        import('../src/errors.js'),
        import('../src/net.js'),
        import('../services/nfs/handle.js'),
        import('../src/nfs/handle.js'),
      ]);
      const server = options.server ?? config.server.address ?? '127.0.0.1';
      if (!isIPv4(server)) throw new BeError('E_USAGE', `--server ${server}: not an IPv4 address`);
      const rpc = { ...(options.portmapPort ? { portmapPort: options.portmapPort } : {}), ...(options.timeout ? { timeoutMs: options.timeout } : {}) };
      const handle = await handles.handleFor(config.nfs.handleCommand, server, path, rpc);
      let verified: unknown;
      if (options.verify) {
        const info = await handles.fsinfo(server, handle, rpc);
        verified = { rtmax: info.rtmax, wtmax: info.wtmax, properties: info.properties };
      }
      const version = options.v2 ? 2 : 3;
      const shown = version === 2 ? toV2Handle(handle) : handle;
      const env = { 'boot.nfsroot.server': server, 'boot.nfsroot.path': path, ...handleEnv(handle, version) };
      if (options.json) {
        const out = {
          server,
          path,
          version,
          handle: formatHandle(shown),
          length: shown.length,
          hex: shown.toString('hex'),
          env,
          ...(verified ? { fsinfo: verified } : {}),
        };
        process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
        return;
      }
      process.stdout.write(
        `${Object.entries(env)
          .map(([k, v]) => `${k}=${v}`)
          .join('\n')}\n`,
      );
    });
}
