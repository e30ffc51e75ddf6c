import { describe, expect, it } from 'vitest';
import { CommandError, run } from '../../services/os.js';

async function failure(promise: Promise<unknown>): Promise<CommandError> {
  try {
    await promise;
  } catch (err) {
    if (err instanceof CommandError) return err;
    throw err;
  }
  throw new Error('expected the command to fail');
}

describe('the OS door', () => {
  it('runs an argv array and returns its output', async () => {
    const result = await run('printf', ['%s|', 'a b', '$HOME', ';rm']);
    expect(result.stdout).toBe('a b|$HOME|;rm|');
    expect(result.exitCode).toBe(0);
  });

  it('passes input on stdin', async () => {
    expect((await run('cat', [], { input: 'hello' })).stdout).toBe('hello');
  });

  it('keeps the command, exit code and stderr of a failure', async () => {
    const err = await failure(run('sh', ['-c', 'echo "no such dataset" >&2; exit 3']));
    expect(err.failure).toBe('exit');
    expect(err.exitCode).toBe(3);
    expect(err.stderr).toContain('no such dataset');
    expect(err.argv).toEqual(['sh', '-c', 'echo "no such dataset" >&2; exit 3']);
    expect(err.message).toContain('exit status 3: no such dataset');
    expect(err.code).toBe('E_EXEC');
  });

  it('accepts chosen exit codes', async () => {
    expect((await run('sh', ['-c', 'exit 1'], { okExitCodes: [0, 1] })).exitCode).toBe(1);
  });

  it('kills a command that outlives its timeout', async () => {
    const err = await failure(run('sleep', ['10'], { timeoutMs: 100 }));
    expect(err.failure).toBe('timeout');
    expect(err.message).toBe('sleep 10: timed out after 100 ms');
  });

  it('stops a command when its signal aborts', async () => {
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 50);
    expect((await failure(run('sleep', ['10'], { signal: controller.signal }))).failure).toBe('aborted');
    expect((await failure(run('true', [], { signal: AbortSignal.abort() }))).failure).toBe('aborted');
  });

  it('says when a command does not exist', async () => {
    const err = await failure(run('be-no-such-command', []));
    expect(err.failure).toBe('not-found');
    expect(err.message).toBe('be-no-such-command: command not found');
  });
});
