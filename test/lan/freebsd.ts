/** Where the real FreeBSD boot files kept as test fixtures are (../shared/freebsd/README.md). */
import { join } from 'node:path';
import { packageRoot } from '../../services/config.js';

/** Beside the checkout; BE_FREEBSD_FIXTURES names them elsewhere. */
export const freebsdFixtures = process.env.BE_FREEBSD_FIXTURES ?? join(packageRoot(), '..', 'shared', 'freebsd');

export type FreebsdRelease = '12.2' | '10.1';
