/** Every kind of service `be serve` can run, in start order. Later capabilities add theirs here. */
import { guestsKind } from './bhyve/vmtab.js';
import { controlKind } from './control/server.js';
import { dhcpKind } from './dhcp/service.js';
import { httpKind } from './http/service.js';
import { exportsKind } from './nfs/service.js';
import type { ServiceKind } from './service.js';
import { tftpKind } from './tftp/service.js';

// DHCP starts after TFTP and HTTP, so no client is told about a boot file or URL before it can be fetched.
// The exports reconciler has no sockets; it goes last so a bad inventory never delays the boot servers.
// Guests start once their exports are written; the control socket opens once everything it can command is up.
export const serviceKinds: readonly ServiceKind[] = [tftpKind, httpKind, dhcpKind, exportsKind, guestsKind, controlKind];
