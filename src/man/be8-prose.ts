/**
 * The hand-written part of be(8): what the commands' own descriptions and options (read from the
 * program by src/man/be8.ts) cannot say. In the markup of src/man/markup.ts: `be serve` is the command,
 * `nfs.network` a configuration key, `-f` an option, bhyve(8) a reference.
 */

export const description = `\`be\` makes a FreeBSD boot environment (a ZFS dataset such as \`zroot/ROOT/head\`, with its nested \`usr\`, \`var/log\`, ... datasets) bootable over the network, by bhyve(8) guests and by bare metal, from the one machine that holds the datasets.
One process, \`be serve\`, is the whole boot server: a DHCP server (authoritative or proxyDHCP, PXE-aware), a TFTP server for the loader and the kernel, and the coordination around them: NFS exports generated from each boot environment's datasets, mountd(8) reloads, bhyve guests with an NFS root.
The other commands manage boot environments and what they share, install FreeBSD releases into them, run commands in them, and wake, boot and follow the machines that boot them.

The configuration is one YAML file, described in be.yaml(5).
Without \`-c\`, /usr/local/etc/be.yaml is read when it exists, else an embedded default: proxyDHCP beside the LAN's own DHCP server, TFTP, boot environments as directories.
Every key can be overridden with \`--set\`, so the command line works on a read-only file system.

The global options, accepted before or after the command, are:`;

export const afterGlobalOptions = `\`be help COMMAND\` and \`be COMMAND --help\` print the usage of a command.
Every failure is one line on standard error that names what to fix.`;

/** By command path, as in `be config show`: "config show". */
export const commands: Record<string, string> = {
  serve: `Runs every enabled service in one process: \`tftp\`, \`http\` (when \`http.enabled\` is true: the files TFTP serves, over HTTP, for UEFI HTTP boot and iPXE), \`dhcp\`, \`exports\` (when \`nfs.network\` is set), \`guests\` (when a host has boot: bhyve) and \`control\` (the socket \`be status\`, \`be vm\` and \`be bootpxe\` use).
It starts all of them or none: if one cannot start (a port it may not bind, a missing directory) it says so in one line and exits 1 without leaving anything half-open.

SIGTERM and SIGINT stop everything and exit 0.
SIGHUP re-reads the configuration: services whose settings did not change keep their sockets, the others restart; an invalid file is refused with a log line and the running configuration stays.
Logs are JSON lines on standard output, pretty-printed on a terminal; every line carries \`svc\` and, where it applies, \`client\`, \`mac\` or \`xid\`.

With \`http.enabled\`, the \`http\` service also answers, for clients in \`http.allow\` or sending \`Authorization: Bearer\` with \`http.token\`: the status page at \`/\`, live while machines boot; the JSON API under \`/api/\` (\`status\`, \`hosts\`, \`hosts/NAME/boots\`, \`leases\`, \`envs\`, \`transfers\`, \`guests\`, and \`events\`, a Server-Sent Events stream); and Prometheus metrics at \`/metrics\`.
The API's two actions, \`POST /api/hosts/NAME/wake\` (as \`be wol NAME\`) and \`POST /api/hosts/NAME/assign\` with \`{"be": "BE"}\` (as \`be bootpxe BE --host NAME\`), need the token from every client, and are refused while \`http.token\` is null; errors are JSON objects with a stable \`code\`.

DHCP (ports 67 and 4011) and TFTP (port 69) need root.
The DHCP server answers on the broadcast domain of \`dhcp.interface\`, on networks behind DHCP relays, and, on the native datagram path (\`dhcp.datagrams\`), on more LANs of this machine by \`dhcp.pools[].interface\`; it answers a client by the interface its request came in on.`,

  status: `Asks the running appliance, over its control socket, what it runs: its pid, configuration file and services.
With a host name or MAC address, the steps of that machine's last network boot as the appliance saw them, with times: Wake-on-LAN sent, firmware DHCP, loader fetched, the loader's own DHCP, kernel fetched.
Without a running appliance it says so in one line and exits 1.`,

  list: `With \`be.backend\` zfs each child dataset of \`be.root\` is a boot environment, with its nested datasets; their paths come from the mount table, not from the mountpoint property.
With dir each subdirectory of \`be.root\` is one.
The list shows each boot environment's datasets, where they are mounted, whether it is shared, which hosts use it and its installed release.`,

  create: `The freebsd layout makes the nested datasets of a FreeBSD installation (tmp, usr, usr/home, usr/ports, usr/src, var, var/audit, var/crash, var/log, var/mail, var/tmp), every one canmount=noauto, the boot environment's own at /; flat makes one dataset.`,

  mount: `Mounts the boot environment, then its children in mountpoint order, skipping canmount=off as rc.d/zfsbe does.
FreeBSD uses \`mount -t zfs\`; zfs-fuse moves the mountpoint property, and \`be umount\` restores it (\`be.mountMethod\`).`,

  umount: `Refused while the boot environment is shared over NFS, unless \`-f\`.`,

  destroy: `Refused while the boot environment is shared or assigned to a host in hosts[], unless \`-f\`.`,

  sharenfs: `One export per dataset, because mountd(8) serves one file system a line and NFSv3 does not cross mount points.
\`be\` writes only \`nfs.exportsFile\`, atomically and only when its text changes, then reloads the server: \`nfs.reload\` when set, otherwise SIGHUP to the pid in \`nfs.pidFile\`.
When no NFS server runs, the file is written anyway, one warning says the exports take effect when the server starts, and the command exits 0.
If the reload of a running server fails, the old file is put back and the command fails.

Exports are refused while \`nfs.network\` is unset, and maproot=root to 0.0.0.0/0 unless \`nfs.allowWorldRoot\` is true or \`--force\` is given.
On FreeBSD, name the file to mountd(8) in rc.conf(5):

    mountd_flags="-r -S /etc/exports /etc/exports.be"`,

  install: `Puts any FreeBSD release from 5.0 into an empty boot environment, e.g. \`be install -p /pub -o FreeBSD -a amd64 -b release -r 11.1 test\`; \`-r\` is required unless \`--list\` is given.
Without \`-p\`, the release comes from \`install.mirror\`, then from \`install.archive\` when the mirror lacks it.

Every set is verified before anything is extracted: from 9.0 the sha256 of its MANIFEST, before that the checksum of every piece and the piece count.
Downloads are kept in \`install.cache\`, resumed with HTTP range requests, and count only once verified; HTTP_PROXY, HTTPS_PROXY and NO_PROXY apply.
The sets are extracted with tar(1), owners, modes, flags and hard links kept, into the boot environment mounted with its nested datasets.

The boot environment must be empty unless \`--force\`.
On zfs it is snapshotted first and rolled back if anything fails (a download, a checksum, tar, SIGINT); on dir an empty boot environment is emptied again.
The release is recorded only once every set is in.`,

  jail: `Mounts the boot environment with its nested datasets, makes a jail on it with the parameters bectl(8) uses plus \`-o\`, runs the command in it with jexec(8) on this terminal, then removes the jail and unmounts what it mounted, on every exit path, unless \`--keep\`.
On a terminal SIGINT reaches the command in the jail, and only SIGTERM ends the jail.
When the kernel lacks the COMPAT_FREEBSD option an old userland needs, one warning says so.`,

  exports: `Prints what \`be sharenfs\` and the \`exports\` service would write, in the format of \`nfs.format\`: exports(5) of mountd(8) (freebsd), of Linux knfsd (linux), or EXPORT blocks of nfs-ganesha (ganesha).`,

  fstab: `Prints lines such as \`SERVER:/ROOT/head/usr /usr nfs rw 0 0\`, parents first, with the options of \`nfs.fstabOptions\`; \`be sharenfs --fstab\` writes them into the boot environment.`,

  nfshandle: `Asks the portmapper where MOUNT v3 listens over UDP, then mounts the path with AUTH_SYS from a reserved port: the call the FreeBSD loader makes, so the handle is the one a guest gets.
It prints boot.nfsroot.server, boot.nfsroot.path, boot.nfsroot.nfshandle and boot.nfsroot.nfshandlelen lines ready for \`bhyveload -e\`.
Errors are one line, such as "MOUNT /x refused: MNT3ERR_ACCES" or "no reply after 4 tries"; it never hangs.
For a server whose mountd refuses the call, \`nfs.handleCommand\` runs a helper instead.`,

  bootnfs: `The guest's root file system is the boot environment over NFS, as bhyveload(8) and bhyve(8) run by hand would have it:

- mounts the boot environment if it is not mounted, shares it and writes the guest's etc/fstab for its nested datasets (the first one kept as etc/fstab.orig);
- reads its release: an NFSv3 root from 8.2, else the NFSv2 handle; virtio-net from 9.0, else e1000;
- gets the NFS handle with the loader's own MOUNT call, or \`nfs.handleCommand\`;
- creates the tap and adds it to the bridge when one is configured;
- runs bhyveload(8) and bhyve(8) in the loop of vmrun.sh: exit 0 (reset) loads the guest again, anything else ends it, and \`bhyvectl --destroy\` runs before and after, on every exit path.

Settings come from the \`bhyve\` section, then from the host (\`--host\`, or the one host with boot: bhyve assigned to the boot environment), then from the options.
\`--dry-run\` changes nothing and prints the commands, shell-quoted.`,

  vm: `\`be serve\` runs the hosts with boot: bhyve as its vmtab: those with autostart start with the appliance, a guest that reboots is loaded again, one that powers off stays down until started.
They need a null-modem console (\`hosts[].bhyve.console\`), not stdio.
SIGTERM to \`be serve\` stops every guest and destroys its VM.`,

  sharepxe: `Mounts the boot environment, shares it over NFS (with the guest's fstab when \`server.address\` is set) and serves its boot/ over TFTP.
A boot environment with neither boot/pxeboot nor boot/loader.efi is refused.
When \`be serve\` runs it is asked to reload; services whose settings did not change keep their sockets.`,

  bootpxe: `Assigns the host to the boot environment, making it PXE-bootable first if needed.
Assignments live in the state file and override \`hosts[].be\`, so they work on a read-only configuration file; \`be config show\` shows them.
\`--follow\` prints a line a boot step the appliance sees, with times, until the kernel is served, or says where the boot stopped when \`--timeout\` runs out.`,

  wol: `A magic packet is 6 bytes of ff, then the MAC address 16 times, sent over UDP with broadcast enabled.
A directed broadcast such as 10.99.0.255 reaches a LAN this machine is not the default route for.
When \`be serve\` runs, the wake-up is the first step of the host's boot timeline (\`be status HOST\`).`,

  hunt: `The loop over releases as one command.
Each release's boot environment, r followed by the release, is made and installed when missing; the test runs in the runner (a jail on FreeBSD, a chroot elsewhere, or a bhyve guest) with a timeout.
Verdicts are those of git bisect run: exit 0 good, 125 skip, anything else bad; a test still running at the timeout is an error.
Logs and results are kept per run under \`server.stateDir\`/hunt, so \`--resume\` can finish a run and \`--report\` print it again.`,

  bisect: `Tests both ends first: a good end that tests bad, or a bad end that tests good, is refused.
Then the releases between them, one line a step, as git bisect run finds a commit; a release that cannot be tested is stepped past, and when only such releases remain the answer is a range.`,

  leases: `Each lease with its address, MAC address, host, state (bound, expired, released or declined), expiry and client.`,

  config: `\`be config check\` exits 0 or prints the first problem and exits 2, e.g. \`be: /usr/local/etc/be.yaml:12: tftp.port = 70000: Too big: expected number to be <=65535\`.
\`be config show\` prints the file, the defaults, \`--set\` and the assignments of \`be bootpxe\` together; with \`--comments\`, each key under its description from be.yaml(5).`,
};

/** EXIT STATUS: a tag list of statuses, then the commands whose status says something else. */
export const statuses: [string, string][] = [
  ['0', 'Success, and `--help`. `be serve` stopped by SIGTERM or SIGINT.'],
  ['1', 'A failure: an external command failed, a service could not start, a file could not be written, the network, no running appliance.'],
  ['2', 'Input the user can correct: usage, the configuration (a file or `--set`), a MAC address that cannot be read, a host not in hosts[].'],
  [
    '130, 143',
    'Interrupted by SIGINT or SIGTERM (128 plus the signal number, as a shell reports it): `be install`, `be hunt`, `be bisect` and `be jail`, once they have undone what they did (`be install` rolls the boot environment back).',
  ],
];

export const exitStatusNotes = `\`be jail\` exits with the status of the command it ran, 128 plus the signal number when a signal ended it.
\`be hunt\` exits 1 when any release is bad or could not be tested, 0 when every one is good or skipped.
\`be bisect\` exits 0 with an answer, 1 when an end is not what it was said to be or a step fails.`;

export const environment: [string, string][] = [
  ['HTTP_PROXY, HTTPS_PROXY, NO_PROXY', 'The proxy `be install` downloads through, as for curl(1).'],
  ['BE_DEBUG', 'When set, an internal error prints its stack trace after its line.'],
];

export const files: [string, string][] = [
  ['/usr/local/etc/be.yaml', 'The configuration, when `-c` is not given; see be.yaml(5).'],
  ['/var/db/be', 'The default `server.stateDir`.'],
  ['/var/db/be/be-state.json', 'What is shared, how mounted boot environments were mounted, and the host assignments of `be bootpxe`.'],
  ['/var/db/be/be.sock', 'The control socket of `be serve` (`server.socket`).'],
  ['/var/db/be/dist/', 'Downloaded FreeBSD sets, by architecture and release (`install.cache`).'],
  ['/var/db/be/hunt/', 'The runs of `be hunt` and `be bisect`: logs, results and reports per release.'],
  ['/var/db/be/dhcp.leases', 'The DHCP lease journal (`dhcp.leaseFile`).'],
  ['/var/db/be/tftp/', 'The default TFTP root (`tftp.root`).'],
  ['/etc/exports.be', 'The exports file `be` writes (`nfs.exportsFile`).'],
];

export const examples = `Make a boot environment with the nested datasets of a FreeBSD installation, install 14.1 into it and boot it in a bhyve guest with its root on NFS (the host of hosts[] with boot: bhyve and be: head gives the guest its MAC and IP address):

    be create -l freebsd head
    be install -r 14.1 head
    be bootnfs head

Boot a machine of hosts[] from it over PXE, waking it and following the boot:

    be sharepxe head
    be bootpxe head --host lab1 --wake --follow

Measure a figure in three releases, then find the first release of a list without /usr/bin/gcc:

    be hunt --releases 12.4,13.2,14.1 --probe manratio
    be bisect --releases 9.2,10.0,10.1,11.0 --good 9.2 --bad 11.0 -- /bin/sh -c 'test -x /usr/bin/gcc'

Check a configuration with an override, and see the result with each key's description:

    be -c ./be.yaml --set dhcp.mode=authoritative config check
    be -c ./be.yaml config show --comments`;

export const standards: [string, string][] = [
  ['RFC 1350', 'The TFTP Protocol (Revision 2), with netascii as RFC 764 defines it'],
  ['RFC 1123', 'Requirements for Internet Hosts: section 4.2, TFTP (no retransmission on a duplicate ACK)'],
  ['RFC 2347, RFC 2348, RFC 2349', 'TFTP option extension, blksize, timeout and tsize'],
  ['RFC 7440', 'TFTP windowsize'],
  ['RFC 9110, RFC 9112', 'HTTP semantics (range and conditional requests) and HTTP/1.1'],
  ['RFC 6750', 'bearer tokens (`Authorization: Bearer`)'],
  ['RFC 2131, RFC 2132', 'DHCP and its options'],
  ['RFC 1542', 'BOOTP relay agents'],
  ['RFC 3004', 'the user class option'],
  ['RFC 3046', 'the relay agent information option'],
  ['RFC 3396', 'long options'],
  ['RFC 4578', 'the options of PXE clients'],
  ['RFC 6842', 'the client identifier in replies'],
  ['RFC 5531, RFC 4506, RFC 1833', 'ONC RPC, XDR and the portmapper'],
  ['RFC 1813', 'NFS version 3 and its MOUNT protocol'],
];

export const standardsNotes = `proxyDHCP and boot server discovery follow the Preboot Execution Environment (PXE) Specification; the Wake-on-LAN packet is that of AMD's Magic Packet white paper; the event stream is the WHATWG HTML Standard's Server-Sent Events; \`/metrics\` is the Prometheus text exposition format.`;

export const history = `The command set (\`be create\`, \`be mount\`, \`be sharenfs\`, \`be bootnfs\`, \`be sharepxe\`, \`be bootpxe\`, \`be wol\`) follows the BSDCan 2018 talk that started \`be\`.
One Node.js process replaces what those steps took before: dnsmasq, tftp-hpa, hand-written exports and shell scripts.`;

export const caveats = `The native datagram path is compiled when be is built or installed, with cc(1) and the headers of the Node.js that runs it; without them be runs on node:dgram, which cannot tell which interface a datagram arrived on, so the DHCP server then serves one broadcast domain directly and other networks only through relays, and a broadcast reply needs a route for 255.255.255.255.
bhyve guests, jails and \`mount -t zfs\` need FreeBSD.`;

export const seeAlso = ['be.yaml(5)', 'exports(5)', 'rc.conf(5)', 'bectl(8)', 'bhyve(8)', 'bhyveload(8)', 'jail(8)', 'jexec(8)', 'mountd(8)', 'zfs(8)'];
