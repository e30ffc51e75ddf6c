/**
 * `be install [-p MIRROR] [-o OS] [-a ARCH] [-b release|snapshot] -r VERSION [--sets LIST] [--force] [--json] NAME`
 * and `be install --list [-p MIRROR] [-o OS] [-a ARCH]`: the talk's third step, any release since 5.0
 * into a boot environment, from a mirror or a local copy laid out like one.
 */
import { type Command, Option } from 'commander';
import { configFrom, interruptible } from './common.js';

interface Options {
  mirror?: string;
  os?: string;
  arch: string;
  branch: 'release' | 'snapshot';
  release?: string;
  sets?: string;
  force?: boolean;
  json?: boolean;
  list?: boolean;
}

/** `-p /pub -o FreeBSD` is the directory /pub/FreeBSD; `-p https://host/pub -o FreeBSD` the same over HTTP. */
export function mirrorRoot(p: string, os: string | undefined): string {
  const base = p.replace(/\/+$/, '');
  return os ? `${base}/${os.replace(/^\/+|\/+$/g, '')}` : base;
}

export function register(program: Command): void {
  program
    .command('install')
    .description('install a FreeBSD release (5.0 to today) into a boot environment from a mirror, verified before it is extracted')
    .argument('[name]', 'the boot environment (be create it first)')
    .option('-p, --mirror <root>', 'mirror root, a URL or a directory (default install.mirror)')
    .option('-o, --os <name>', 'appended to the mirror root: -p /pub -o FreeBSD is /pub/FreeBSD')
    .option('-a, --arch <arch>', 'amd64, i386, arm64 (aarch64)', 'amd64')
    .addOption(new Option('-b, --branch <branch>', 'release, or snapshot (-CURRENT/-STABLE builds)').choices(['release', 'snapshot']).default('release'))
    .option('-r, --release <version>', 'e.g. 14.1, 8.4, 15.0-CURRENT (with -b snapshot)')
    .option('--sets <list>', 'comma-separated sets (default base,kernel): base, kernel, lib32, src, tests, ...')
    .option('--force', 'install into a boot environment that is not empty')
    .option('--json', 'print the summary as JSON')
    .option('--list', 'list the releases the mirror offers, newest first')
    .action(async (name: string | undefined, options: Options, command: Command) => {
      const [{ config }, { BeError }, release, install] = await Promise.all([
        configFrom(command),
        import('../src/errors.js'),
        import('../src/install/release.js'),
        import('../services/install/install.js'),
      ]);
      const usage = (err: unknown): never => {
        if (err instanceof release.ReleaseError) throw new BeError('E_USAGE', err.message);
        throw err;
      };
      const root = mirrorRoot(options.mirror ?? config.install.mirror, options.os);
      const arch = (() => {
        try {
          return release.parseArchitecture(options.arch);
        } catch (err) {
          return usage(err);
        }
      })();
      if (options.list) {
        const sorted = await install.releasesOffered(root, arch, options.branch);
        const top = options.branch === 'snapshot' ? 'snapshots' : 'releases';
        if (sorted.length === 0) throw new BeError('E_USAGE', `${root}: no releases for ${arch.target} under ${top}/ (is it a mirror root?)`);
        process.stdout.write(options.json ? `${JSON.stringify(sorted)}\n` : `${sorted.join('\n')}\n`);
        return;
      }
      if (name === undefined) throw new BeError('E_USAGE', 'be install: name the boot environment (or --list)');
      if (options.release === undefined) throw new BeError('E_USAGE', 'be install: -r VERSION is required (e.g. -r 14.1)');
      let wanted: ReturnType<typeof release.parseRelease>;
      try {
        wanted = release.parseRelease(options.release, options.branch);
        release.parseArchitecture(options.arch, wanted);
      } catch (err) {
        return usage(err);
      }
      const stop = interruptible();
      const { progressReporter } = await import('./install-progress.js');
      const reporter = progressReporter(process.stderr, options.json === true);
      try {
        const summary = await install
          .installRelease(config, name, {
            release: wanted,
            arch,
            mirror: root,
            archive: options.mirror === undefined ? config.install.archive : null,
            sets: options.sets?.split(','),
            force: options.force === true,
            signal: stop.signal,
            progress: reporter.progress,
          })
          .catch(usage);
        reporter.stop();
        if (options.json) process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
        else {
          const bytes = summary.sets.reduce((n, s) => n + s.bytes, 0);
          process.stdout.write(
            `${name}: ${summary.release} ${summary.arch} installed (${summary.sets.map((s) => s.set).join(', ')}; ${(bytes / 1048576).toFixed(1)} MiB${summary.sets.every((s) => s.fromCache) ? ' from the cache' : ''}) in ${summary.seconds.toFixed(1)} s\n`,
          );
        }
      } finally {
        reporter.stop();
        stop.release();
      }
    });
}
