/**
 * `be bisect [--releases FILE|R1,R2,...] --good R1 --bad R2 [-p MIRROR] [--runner R] (--probe NAME | -- COMMAND...)`:
 * the first bad release between a good one and a bad one, as `git bisect run` finds a commit. Both
 * ends are tested first (a "good" end that tests bad, or a "bad" end that tests good, is refused),
 * then the releases between them, one line a step. Without --releases, the releases the mirror offers.
 * Exit status: 0 with an answer, 1 when the ends are not what they were said to be or a step errs.
 */
import type { Command } from 'commander';
import { configFrom, interruptible } from './common.js';
import { describe, type HuntOptions, huntOptions, releasesFrom, settingsFrom } from './hunt-options.js';

interface Options extends HuntOptions {
  good: string;
  bad: string;
}

export function register(program: Command): void {
  huntOptions(
    program
      .command('bisect')
      .description('find the first bad release between a good and a bad one, testing each as be hunt does')
      .argument('[command...]', 'the test, after --: exit 0 good, 125 skip, anything else bad'),
  )
    .requiredOption('--good <release>', 'a release the test passes in (older)')
    .requiredOption('--bad <release>', 'a release the test fails in (newer)')
    .action(async (command: string[], options: Options, cmd: Command) => {
      const [{ config }, { BeError }, release, hunt, { bisectRun, bisection }, install] = await Promise.all([
        configFrom(cmd),
        import('../src/errors.js'),
        import('../src/install/release.js'),
        import('../services/hunt/hunt.js'),
        import('../services/hunt/bisect.js'),
        import('../services/install/install.js'),
      ]);
      const parse = (text: string, flag: string) => {
        try {
          return release.parseRelease(text, options.branch);
        } catch (err) {
          throw new BeError('E_USAGE', `${flag} ${(err as Error).message.replace(/^-r /, '')}`);
        }
      };
      const good = parse(options.good, '--good');
      const bad = parse(options.bad, '--bad');
      const stop = interruptible();
      try {
        const settings = await settingsFrom(config, options, command, stop.signal);
        const { chronological } = await import('../src/hunt/releases.js');
        const releases =
          options.releases !== undefined
            ? await releasesFrom(options.releases, options.branch)
            : chronological(
                (await install.releasesOffered(settings.mirror, settings.arch, options.branch, stop.signal)).map((n) =>
                  release.parseRelease(n, options.branch),
                ),
              );
        // The ends are checked before a run directory is made for them.
        const steps = bisection(releases, good, bad);
        const run = await hunt.HuntRun.create(settings, releases);
        process.stderr.write(`be: bisect ${run.record.run}: ${releases.length} releases, ${settings.runner.name} runner\n`);
        const outcome = await bisectRun(run, steps, (step, result) =>
          (options.json ? process.stderr : process.stdout).write(`step ${step}: ${result.release} ${describe(result)}\n`),
        );
        const { answer } = outcome;
        if (options.json)
          process.stdout.write(
            `${JSON.stringify({ run: run.record.run, ...answer, steps: outcome.steps.map((s) => ({ release: s.release, verdict: s.verdict, exitCode: s.exitCode, seconds: s.seconds })) }, null, 2)}\n`,
          );
        if (answer.kind === 'refused') throw new BeError('E_EXEC', answer.reason);
        const range = answer.skipped.length > 0 ? ` (or one of ${answer.skipped.join(', ')}, which could not be tested)` : '';
        if (!options.json) process.stdout.write(`first bad release: ${answer.firstBad}${range}; last good: ${answer.lastGood}\n`);
      } finally {
        stop.release();
      }
    });
}
