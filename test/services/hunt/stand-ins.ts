/**
 * Stand-ins for the FreeBSD tools the jail and bhyve runners (and `be jail`) call, which cannot run
 * here: jail(8), jexec(8), mount(8) for `mount -p`, umount(8), sysctl(8), and bhyveload/bhyve/bhyvectl.
 * Put first on PATH, each records its argv in one ordered `calls` file and replays the documented
 * behaviour the runners depend on; they test what be runs around the tools, not the tools.
 *
 * - `jail -c name=N path=P ... mount.devfs ...` makes N (a file under jails/) and, for mount.devfs,
 *   adds `devfs P/dev devfs` to the mount table `mount -p` prints (jail(8) mounts devfs with ruleset 4);
 *   a name in use fails. `jail -r N` kills the processes jexec started in N and removes it, but leaves
 *   devfs mounted: a jail made on the command line is removed by name, and jail(8) has no record then of
 *   its mount.devfs (that is why be unmounts P/dev itself). An unknown name fails.
 * - `jexec N CMD...` fails for an unknown jail; otherwise it runs CMD here as if jailed (exec, so the
 *   status is CMD's), or replays a queued status, or `hang`s until signalled (or until jail -r N).
 * - `umount P` takes P off the table (or fails if it is not mounted); `sysctl` prints a file the test
 *   writes (kern.osrelease and kern.features lines), or fails as for an unknown oid.
 * - `bhyveload ... -h ROOT ... VM` remembers ROOT; `bhyve` replays `guest:N`: what the rc script would
 *   do in a guest (copies the script for the test to read, removes it as it removes itself, writes
 *   ROOT/.be-run/log and ROOT/.be-run/status = N) then exits 1, powered off; or a status; or `hang`.
 */
import { appendFileSync, chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export type Tool = 'jail' | 'jexec' | 'mount' | 'umount' | 'sysctl' | 'bhyveload' | 'bhyve' | 'bhyvectl';
export const tools: readonly Tool[] = ['jail', 'jexec', 'mount', 'umount', 'sysctl', 'bhyveload', 'bhyve', 'bhyvectl'];

const common = `#!/bin/sh
tool=$(basename "$0")
F="$BE_FAKE_DIR"
printf '%s\\n' "$tool $*" >> "$F/calls"
next() {
  queue="$F/$tool.statuses"
  status=
  if [ -s "$queue" ]; then
    status=$(head -n 1 "$queue")
    tail -n +2 "$queue" > "$queue.next" && mv "$queue.next" "$queue"
  fi
}
hang() {
  trap 'exit 143' TERM INT
  echo running > "$F/$tool.running"
  while :; do sleep 0.05; done
}
`;

const scripts: Record<Tool, string> = {
  jail: `${common}
mkdir -p "$F/jails"
case "$1" in
-c)
  shift
  name= path= devfs=
  for p in "$@"; do
    case "$p" in
    name=*) name=\${p#name=} ;;
    path=*) path=\${p#path=} ;;
    mount.devfs|mount.devfs=true|mount.devfs=1) devfs=yes ;;
    mount.devfs=*|mount.nodevfs*) devfs= ;;
    esac
  done
  if [ -e "$F/jails/$name" ]; then echo "jail: $name: already exists" >&2; exit 1; fi
  next
  if [ -n "$status" ] && [ "$status" != 0 ]; then echo "jail: $name: stand-in failure" >&2; exit "$status"; fi
  : > "$F/jails/$name"
  [ -n "$devfs" ] && printf 'devfs\\t%s/dev\\tdevfs\\trw\\t0\\t0\\n' "$path" >> "$F/mounts"
  echo "$name: created"
  ;;
-r)
  name=$2
  if [ ! -e "$F/jails/$name" ]; then echo "jail: \\"$name\\" not found" >&2; exit 1; fi
  for pid in $(cat "$F/jails/$name"); do kill "$pid" 2>/dev/null; done
  rm -f "$F/jails/$name"
  echo "$name: removed"
  ;;
*) echo "jail: stand-in knows only -c and -r" >&2; exit 64 ;;
esac
`,
  jexec: `${common}
name=$1
shift
if [ ! -e "$F/jails/$name" ]; then echo "jexec: jail \\"$name\\" not found" >&2; exit 1; fi
next
case "$status" in
'') exec "$@" ;;
hang) echo $$ >> "$F/jails/$name"; hang ;;
*) exit "$status" ;;
esac
`,
  mount: `${common}
if [ "$*" = "-p" ]; then cat "$F/mounts" 2>/dev/null; exit 0; fi
echo "mount: stand-in knows only -p" >&2
exit 64
`,
  umount: `${common}
tab=$(printf '\\t')
target=$1
if ! grep -q "$tab$target$tab" "$F/mounts" 2>/dev/null; then echo "umount: $target: not a file system root directory" >&2; exit 1; fi
grep -v "$tab$target$tab" "$F/mounts" > "$F/mounts.next"; mv "$F/mounts.next" "$F/mounts"
`,
  sysctl: `${common}
if [ -f "$F/sysctl" ]; then cat "$F/sysctl"; exit 0; fi
echo "sysctl: unknown oid '$1'" >&2
exit 1
`,
  bhyveload: `${common}
while [ $# -gt 1 ]; do
  if [ "$1" = -h ]; then printf '%s\\n' "$2" > "$F/guest-root"; fi
  shift
done
next
exit "\${status:-0}"
`,
  bhyve: `${common}
next
case "$status" in
guest:*)
  root=$(cat "$F/guest-root")
  if [ -f "$root/etc/rc.d/be_run" ]; then
    cp "$root/etc/rc.d/be_run" "$F/rc-script"
    rm -f "$root/etc/rc.d/be_run"
    mkdir -p "$root/.be-run"
    echo "guest output" > "$root/.be-run/log"
    echo "\${status#guest:}" > "$root/.be-run/status.tmp"
    mv "$root/.be-run/status.tmp" "$root/.be-run/status"
  fi
  exit 1
  ;;
hang) hang ;;
'') exit 1 ;;
*) exit "$status" ;;
esac
`,
  bhyvectl: `${common}
exit 0
`,
};

export class StandIns {
  readonly dir = mkdtempSync(join(tmpdir(), 'be-runner-fakes-'));
  readonly bin = join(this.dir, 'bin');
  readonly env: Record<string, string>;

  constructor(which: readonly Tool[] = tools) {
    mkdirSync(this.bin);
    for (const tool of which) {
      writeFileSync(join(this.bin, tool), scripts[tool]);
      chmodSync(join(this.bin, tool), 0o755);
    }
    this.env = { PATH: `${this.bin}:${process.env.PATH ?? ''}`, BE_FAKE_DIR: this.dir };
  }

  /** Queue statuses for the next runs of a tool: a number, `hang`, or for bhyve `guest:N`. */
  queue(tool: Tool, ...statuses: (number | string)[]): void {
    appendFileSync(join(this.dir, `${tool}.statuses`), statuses.map((s) => `${s}\n`).join(''));
  }

  /** What `sysctl kern.osrelease kern.features` prints. */
  kernel(osrelease: string, features: readonly string[]): void {
    writeFileSync(join(this.dir, 'sysctl'), [`kern.osrelease: ${osrelease}`, ...features.map((f) => `kern.features.${f}: 1`)].join('\n') + '\n');
  }

  calls(): string[] {
    return this.read('calls').trimEnd().split('\n').filter(Boolean);
  }

  /** The mount table `mount -p` prints now. */
  mounts(): string[] {
    return this.read('mounts').trimEnd().split('\n').filter(Boolean);
  }

  jailExists(name: string): boolean {
    return existsSync(join(this.dir, 'jails', name));
  }

  isRunning(tool: Tool): boolean {
    return this.read(`${tool}.running`).trim() === 'running';
  }

  read(file: string): string {
    try {
      return readFileSync(join(this.dir, file), 'utf8');
    } catch {
      return '';
    }
  }

  reset(): void {
    for (const file of ['calls', 'mounts', 'sysctl', 'guest-root', 'rc-script', 'jails', ...tools.flatMap((t) => [`${t}.statuses`, `${t}.running`])]) {
      rmSync(join(this.dir, file), { recursive: true, force: true });
    }
  }

  remove(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}
