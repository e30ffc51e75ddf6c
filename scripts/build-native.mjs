// Compiles native/datagram.c, be's native datagram path, into build/native/datagram.node with the
// system's C compiler and the headers of the Node that runs this script (node_api.h, uv.h): no
// node-gyp, no download. It never fails the build: without a compiler or headers it says so in one
// line and be uses node:dgram (services/net/datagram.ts). BE_NATIVE_REQUIRED=1 makes a failure an error
// (CI proves the native path that way). Runs from `npm run build` and when the package is installed.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const source = join(root, 'native', 'datagram.c');
const output = join(root, 'build', 'native', 'datagram.node');
const required = process.env.BE_NATIVE_REQUIRED === '1';

function fail(why) {
  const line = `be: native datagram path not built (${why}): be will use node:dgram`;
  if (required) {
    console.error(`${line}; BE_NATIVE_REQUIRED=1 makes this an error`);
    process.exit(1);
  }
  console.error(line);
  process.exit(0);
}

// The headers of this very Node: <prefix>/include/node beside bin/node, as release tarballs, Debian's
// and FreeBSD's packages install them; BE_NODE_HEADERS names another directory.
const candidates = [process.env.BE_NODE_HEADERS, join(dirname(dirname(process.execPath)), 'include', 'node'), '/usr/include/node', '/usr/local/include/node'];
const headers = candidates.find((dir) => dir && existsSync(join(dir, 'node_api.h')) && existsSync(join(dir, 'uv.h')));
if (!headers) fail(`no node_api.h and uv.h in ${candidates.filter(Boolean).join(', ')}; set BE_NODE_HEADERS`);

if (!existsSync(source)) fail(`${source} is missing`);
if (existsSync(output) && statSync(output).mtimeMs > statSync(source).mtimeMs && statSync(output).mtimeMs > statSync(process.execPath).mtimeMs) {
  process.exit(0); // up to date
}

const compiler = process.env.CC ?? 'cc';
mkdirSync(dirname(output), { recursive: true });
const partial = `${output}.${process.pid}.tmp`;
try {
  execFileSync(
    compiler,
    ['-O2', '-shared', '-fPIC', '-Wall', '-Wextra', '-Werror', '-DNAPI_VERSION=8', '-DNODE_GYP_MODULE_NAME=datagram', `-I${headers}`, source, '-o', partial],
    { stdio: ['ignore', 'inherit', 'inherit'] },
  );
  renameSync(partial, output); // atomic: a running be never loads half a file
} catch (err) {
  rmSync(partial, { force: true });
  fail(err.code === 'ENOENT' ? `no C compiler (${compiler}); install one or set CC` : `${compiler} failed`);
}
console.error(`be: native datagram path built (${output})`);
