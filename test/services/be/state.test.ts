import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadState, updateState } from '../../../services/be/state.js';

const dir = mkdtempSync(join(tmpdir(), 'be-state-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('the state file', () => {
  it('keeps every change of updates made at once in one process (be hunt --jobs N)', async () => {
    const names = Array.from({ length: 20 }, (_, i) => `r${i}`);
    await Promise.all(
      names.map((name) => updateState(dir, (s) => (s.installed[name] = { release: `${name}-RELEASE`, arch: 'amd64', sets: ['base'], at: '' }))),
    );
    expect(Object.keys((await loadState(dir)).installed).sort()).toEqual([...names].sort());
  });

  it('a change that throws fails its own update only', async () => {
    const failing = updateState(dir, () => {
      throw new Error('no');
    });
    const next = updateState(dir, (s) => s.shared.push('after'));
    await expect(failing).rejects.toThrow('no');
    expect((await next).shared).toContain('after');
  });
});
