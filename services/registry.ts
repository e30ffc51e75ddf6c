/** Every kind of service `be serve` can run, in start order. Later capabilities add theirs here. */
import { dhcpKind } from './dhcp/service.js';
import type { ServiceKind } from './service.js';
import { tftpKind } from './tftp/service.js';

// DHCP starts after TFTP, so no client is told about a boot file before it can be fetched.
export const serviceKinds: readonly ServiceKind[] = [tftpKind, dhcpKind];
