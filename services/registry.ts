/** Every kind of service `be serve` can run, in start order. Later capabilities add theirs here. */
import type { ServiceKind } from './service.js';
import { tftpKind } from './tftp/service.js';

export const serviceKinds: readonly ServiceKind[] = [tftpKind];
