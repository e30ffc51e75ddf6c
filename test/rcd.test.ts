/**
 * rc.d scripts: every file passes `sh -n` and shellcheck as POSIX sh. rc.d/be is also run under a
 * stand-in for FreeBSD's rc.subr (which does not exist here) that only loads rc.conf variables and
 * dispatches to the script's own functions, to check what the script itself computes.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, describe, expect, it } from 'vitest';
import { LineWatcher } from './lan/lines.js';
import { needPeers } from './lan/peers.js';

const rcd = new URL('../rc.d/', import.meta.url).pathname;
const scripts = readdirSync(rcd);
const peers = needPeers('rc.d checks', ['sh', 'shellcheck']);

describe.skipIf(peers.skip)('rc.d scripts', () => {
  it('exist', () => {
    expect(scripts).toContain('be');
  });

  it.each(scripts)('%s parses with sh -n and passes shellcheck -s sh', async (script) => {
    const parse = await execa('sh', ['-n', join(rcd, script)], { reject: false });
    expect(parse.stderr).toBe('');
    expect(parse.exitCode).toBe(0);
    const check = await execa('shellcheck', ['-s', 'sh', join(rcd, script)], { reject: false });
    expect(check.stdout).toBe('');
    expect(check.exitCode).toBe(0);
  });
});

describe.skipIf(peers.skip)('rc.d/be under a stand-in rc.subr', () => {
  const dir = mkdtempSync(join(tmpdir(), 'be-rcd-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  // The stand-in: load_rc_config sources our rc.conf; run_rc_command prints what rc.subr would run,
  // or calls the script's own *_cmd function, as rc.subr does for extra commands.
  writeFileSync(
    join(dir, 'rc.subr'),
    `load_rc_config() { . "${dir}/rc.conf"; }
run_rc_command() {
  case "$1" in
  start) eval "\${start_precmd}" || { echo "precmd failed"; return 1; }; echo "$command $command_args" ;;
  reload) eval "\${reload_cmd}" ;;
  configtest) eval "\${configtest_cmd}" ;;
  esac
}
`,
  );
  const script = join(dir, 'be');
  writeFileSync(script, readFileSync(join(rcd, 'be'), 'utf8').replace('. /etc/rc.subr', `. "${dir}/rc.subr"`));
  // be itself is replaced by a script that records its arguments.
  const fakeBe = join(dir, 'fake-be');
  writeFileSync(fakeBe, `#!/bin/sh\necho "$@" >> "${dir}/be-calls"\n[ "$BE_FAIL" = 1 ] && exit 2\nexit 0\n`, { mode: 0o755 });

  const rc = (command: string, conf: string, env: Record<string, string> = {}) => {
    writeFileSync(join(dir, 'rc.conf'), `be_enable=YES\nbe_program=${fakeBe}\n${conf}`);
    return execa('sh', [script, command], { reject: false, env });
  };

  it('starts be serve under daemon(8) with pidfiles, restart and the configured flags', async () => {
    const result = await rc('start', 'be_config=/usr/local/etc/be.yaml\nbe_flags="--only tftp"\n');
    expect(result.stdout.trim()).toBe(
      `/usr/sbin/daemon -P /var/run/be.pid -p /var/run/be_child.pid -r -R 5 -o /var/log/be.log -t be ${fakeBe} -c /usr/local/etc/be.yaml serve --only tftp`,
    );
    expect(readFileSync(join(dir, 'be-calls'), 'utf8')).toContain('-c /usr/local/etc/be.yaml config check');
  });

  it('leaves out -c when be_config is empty, so be searches its default locations', async () => {
    const result = await rc('start', '');
    expect(result.stdout.trim()).toMatch(new RegExp(`-t be ${fakeBe} serve$`));
  });

  it('does not start when be rejects the configuration', async () => {
    const result = await rc('start', 'be_config=/nonexistent.yaml\n', { BE_FAIL: '1' });
    expect(result.stdout.trim()).toBe('precmd failed');
  });

  it('reload sends SIGHUP to be itself, named by the child pidfile', async () => {
    const sleeper = execa('sh', ['-c', 'trap "echo got HUP; exit 0" HUP; echo ready; while :; do sleep 0.05; done'], { reject: false });
    await new LineWatcher(sleeper.stdout).next(/ready/);
    const pidfile = join(dir, 'child.pid');
    writeFileSync(pidfile, `${sleeper.pid}\n`);
    // biome-ignore lint/suspicious/noTemplateCurlyInString: a shell parameter expansion, not a template
    const script2 = readFileSync(script, 'utf8').replace('child_pidfile="/var/run/${name}_child.pid"', `child_pidfile="${pidfile}"`);
    writeFileSync(script, script2);
    const result = await rc('reload', '');
    expect(result.exitCode).toBe(0);
    const exited = await sleeper;
    expect(exited.stdout).toBe('ready\ngot HUP');
  });
});
