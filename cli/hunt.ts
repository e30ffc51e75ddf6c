/**
 * `be hunt --releases FILE|R1,R2,... [-p MIRROR] [--runner R] [--jobs N] [--timeout S] (--probe NAME | -- COMMAND...)`:
 * the talk's loop over releases as one command. Each release's BE is made and installed when missing,
 * the test runs in the runner, and the results come as a table, JSON, JUnit and a self-contained HTML
 * report. `--resume RUN` finishes an interrupted run; `--report RUN` prints a run's reports again.
 * Exit status: 0 when every release is good or skipped, 1 when any is bad or could not be tested.
 */
import type { Command } from 'commander';
import type { HuntRun } from '../services/hunt/hunt.js';
import { configFrom, integer, interruptible } from './common.js';
import { type HuntOptions, huntOptions, progressLines, releasesFrom, settingsFrom } from './hunt-options.js';

interface Options extends HuntOptions {
  jobs: number;
  junit?: string;
  html?: string;
  resume?: string;
  report?: string;
}

export function register(program: Command): void {
  huntOptions(
    program
      .command('hunt')
      .description('run a test in every release (installing each into its own BE r<release>) and report good, bad, skip or error per release')
      .argument('[command...]', 'the test, after --: exit 0 good, 125 skip, anything else bad'),
  )
    .option('--jobs <n>', 'releases tested at once', integer(1, 64), 1)
    .option('--junit <file>', 'write a JUnit report (one testcase per release, or per kyua test case)')
    .option('--html <file>', 'write a self-contained HTML report (the matrix, and a chart of a probe’s figure)')
    .option('--resume <run>', 'finish an earlier run: releases without a verdict, or with error, run again')
    .option('--report <run>', 'print an earlier run’s reports without running anything')
    .action(async (command: string[], options: Options, cmd: Command) => {
      const [{ config }, { BeError }, hunt, report, files] = await Promise.all([
        configFrom(cmd),
        import('../src/errors.js'),
        import('../services/hunt/hunt.js'),
        import('../src/hunt/report.js'),
        import('../services/hunt/report-files.js'),
      ]);
      const stop = interruptible();
      try {
        let run: HuntRun;
        const earlier = options.report ?? options.resume;
        if (options.runner === 'bhyve' && options.jobs > 1) {
          throw new BeError('E_USAGE', '--runner bhyve runs one guest at a time: guests of one host share its VM name, tap and MAC (use --jobs 1)');
        }
        if (earlier !== undefined) {
          if (options.report !== undefined && options.resume !== undefined) throw new BeError('E_USAGE', '--report and --resume are one or the other');
          // What the run was made with comes from its run.json; a different value now would be silently ignored.
          const given = ['releases', 'mirror', 'os', 'arch', 'branch', 'sets', 'runner', 'timeout', 'probe'].filter(
            (o) => cmd.getOptionValueSource(o) === 'cli',
          );
          if (given.length > 0 || command.length > 0) {
            const what = [...given.map((o) => `--${o}`), ...(command.length > 0 ? ['a command'] : [])].join(', ');
            throw new BeError('E_USAGE', `${options.report !== undefined ? '--report' : '--resume'} ${earlier} takes the run's own settings: drop ${what}`);
          }
          const record = await hunt.HuntRun.readRecord(config, earlier);
          const saved = 'probe' in record.test ? { probe: record.test.probe } : {};
          const settings = await settingsFrom(
            config,
            { ...options, ...saved, arch: record.arch, timeout: record.timeoutMs / 1000, runner: record.runner, mirror: record.mirror, os: undefined },
            'command' in record.test ? record.test.command : [],
            stop.signal,
          );
          run = await hunt.HuntRun.open(
            { ...settings, archive: record.archive, sets: record.sets ?? undefined, onEvent: progressLines(process.stderr) },
            record,
          );
        } else {
          if (options.releases === undefined) throw new BeError('E_USAGE', 'be hunt: --releases FILE or R1,R2,... is required');
          const releases = await releasesFrom(options.releases, options.branch);
          const settings = await settingsFrom(config, options, command, stop.signal);
          run = await hunt.HuntRun.create({ ...settings, onEvent: progressLines(process.stderr) }, releases);
          process.stderr.write(`be: hunt ${run.record.run}: ${releases.length} releases, ${settings.runner.name} runner, ${options.jobs} at a time\n`);
        }
        const result = options.report !== undefined ? await run.report() : await hunt.huntAll(run, options.jobs);
        // The run directory always gets its HTML report; --html and --junit write copies where they say.
        await files.writeReports(result, { html: `${run.directory}/report.html`, ...(options.junit ? { junit: options.junit } : {}) });
        if (options.html) await files.writeReports(result, { html: options.html });
        if (options.json) process.stdout.write(`${JSON.stringify(report.toJson(result), null, 2)}\n`);
        else {
          const tty = process.stdout.isTTY === true;
          process.stdout.write(report.formatTable(result, { color: tty, ...(tty && process.stdout.columns ? { width: process.stdout.columns } : {}) }));
        }
        process.stderr.write(`be: logs and report.html in ${run.directory}\n`);
        const missing = run.record.releases.length - result.results.length;
        if (missing > 0)
          throw new BeError('E_EXEC', `${missing} of ${run.record.releases.length} releases have no result yet: be hunt --resume ${run.record.run}`);
        if (result.results.some((r) => r.verdict === 'bad' || r.verdict === 'error')) process.exitCode = 1;
      } finally {
        stop.release();
      }
    });
}
