import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Test workers append one line per skipped suite; the global teardown prints them. */
export const skipLogFile = join(tmpdir(), `be-test-skips-${process.env.BE_TEST_RUN_ID ?? process.ppid}.log`);
