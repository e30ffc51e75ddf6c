// Run inside a test namespace: MOUNT a path through the portmapper with our RPC client, then prove the
// handle with NFSv3 GETATTR and FSINFO. Prints one JSON line (bigints as strings).
import { fsinfo, getattr, mountHandle } from '../../dist/services/nfs/handle.js';

const [server, path] = process.argv.slice(2);
const mounted = await mountHandle(server, path);
const attr = await getattr(server, mounted.handle);
const info = await fsinfo(server, mounted.handle);
process.stdout.write(
  `${JSON.stringify({ handle: mounted.handle.toString('hex'), authFlavors: mounted.authFlavors, attr, info }, (_, v) => (typeof v === 'bigint' ? v.toString() : v))}\n`,
);
