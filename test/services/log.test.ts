import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../../services/log.js';

function capture() {
  const stream = new PassThrough();
  const chunks: string[] = [];
  stream.on('data', (chunk: Buffer) => chunks.push(chunk.toString()));
  return { stream, text: () => chunks.join('') };
}

describe('logging', () => {
  it('writes JSON lines whose child loggers carry svc and client', () => {
    const out = capture();
    const log = createLogger({ level: 'info', pretty: false, destination: out.stream });
    log.child({ svc: 'tftp' }).child({ client: '10.99.0.2:1024' }).info({ file: 'boot/pxeboot', bytes: 512 }, 'transfer finished');
    log.debug('not at info');
    const lines = out.text().trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0]!)).toMatchObject({ level: 30, svc: 'tftp', client: '10.99.0.2:1024', file: 'boot/pxeboot', msg: 'transfer finished' });
  });

  it('writes human-readable lines when asked to (a terminal)', () => {
    const out = capture();
    createLogger({ level: 'info', pretty: true, destination: out.stream }).child({ svc: 'dhcp' }).warn('pool exhausted');
    const text = out.text();
    expect(() => JSON.parse(text)).toThrow();
    expect(text).toMatch(/WARN.*pool exhausted/);
    expect(text).toContain('svc: "dhcp"');
  });
});
