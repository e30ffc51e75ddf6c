/**
 * nfs-ganesha (VFS FSAL) and rpcbind in a test host's namespace, for the suites that export boot
 * environments: started, restarted with new exports, and ended with the LAN (Lan.close kills by PID).
 * A restart rather than a reload when new file systems appear: `ip netns exec` gives ganesha a copy of
 * the host's mounts as they were when it started, so a BE mounted later is only seen by a new ganesha.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ResultPromise } from 'execa';
import type { Lan } from '../lan/netns.js';
import { waitFor } from '../lan/wait.js';

export class NfsServer {
  private ganesha: ResultPromise | undefined;
  private rpcbind: ResultPromise | undefined;

  constructor(
    private readonly lan: Lan,
    private readonly host: string,
    private readonly dir: string,
    /** The address ganesha binds (it resolves with AI_ADDRCONFIG: not on a namespace with only lo). */
    readonly address: string,
  ) {}

  /** Where ganesha writes its pid: nfs.pidFile, for be's SIGHUP reloads. */
  get pidFile(): string {
    return join(this.dir, 'ganesha.pid');
  }

  get logFile(): string {
    return join(this.dir, 'ganesha.log');
  }

  /** (Re)starts rpcbind once and ganesha with these EXPORT blocks (or %include lines). */
  async start(exports: string): Promise<void> {
    if (!this.rpcbind) {
      this.rpcbind = this.lan.spawn(this.host, ['rpcbind', '-f']);
      await this.waitFor(async () => (await this.lan.run(this.host, ['rpcinfo', '-p', '127.0.0.1'])).exitCode === 0, 'rpcbind');
    }
    if (this.ganesha?.pid !== undefined) {
      try {
        process.kill(this.ganesha.pid, 'SIGTERM');
      } catch {
        // already gone
      }
      await this.ganesha;
    }
    const conf = join(this.dir, 'ganesha.conf');
    writeFileSync(
      conf,
      `NFS_CORE_PARAM {\n\tProtocols = 3, 4;\n\tBind_addr = ${this.address};\n\tEnable_NLM = false;\n\tEnable_RQUOTA = false;\n}\nNFSV4 {\n\tGraceless = true;\n}\n${exports}`,
    );
    this.ganesha = this.lan.spawn(this.host, ['ganesha.nfsd', '-F', '-f', conf, '-L', this.logFile, '-p', this.pidFile, '-N', 'NIV_EVENT']);
    // Ready when NFSv3 over TCP and MOUNT v3 over UDP answer a NULL call (not merely registered: after a
    // restart the portmapper may still hold the previous ganesha's entries).
    const answers = async (args: string[]) => (await this.lan.run(this.host, ['rpcinfo', ...args])).exitCode === 0;
    await this.waitFor(
      async () => (await answers(['-t', this.address, '100003', '3'])) && (await answers(['-u', this.address, '100005', '3'])),
      'ganesha NFSv3/tcp and MOUNT v3/udp',
    );
  }

  /** Resolves once ganesha and rpcbind have exited (after Lan.close() killed them). */
  async exited(): Promise<void> {
    await Promise.all([this.ganesha, this.rpcbind]);
  }

  private async waitFor(check: () => Promise<boolean>, what: string): Promise<void> {
    await waitFor(check, what, {
      timeoutMs: 30_000,
      intervalMs: 200,
      message: () => `${what} did not come up${existsSync(this.logFile) ? `: ${readFileSync(this.logFile, 'utf8').slice(-2000)}` : ''}`,
    });
  }
}
