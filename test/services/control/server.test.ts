import { EventEmitter } from 'node:events';
import { mkdtempSync, rmSync, statSync, writeFileSync, existsSync } from 'node:fs';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { configSchema } from '../../../src/config/schema.js';
import { BeError } from '../../../src/errors.js';
import { BootKeeper } from '../../../services/boot/catalogue.js';
import { CommandBus } from '../../../services/control/bus.js';
import { callAppliance } from '../../../services/control/client.js';
import { controlKind } from '../../../services/control/server.js';
import { createLogger } from '../../../services/log.js';
import { ApplianceMetrics } from '../../../services/metrics.js';

const dir = mkdtempSync(join(tmpdir(), 'be-control-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const log = createLogger({ level: 'silent' });

function control(name: string, commands = new CommandBus()) {
  const path = join(dir, name, 'be.sock');
  const config = configSchema.parse({ server: { socket: path } });
  const service = controlKind.create({
    config,
    log,
    fail: () => {},
    commands,
    bootEvent: () => {},
    boot: new BootKeeper(config, { log }),
    metrics: new ApplianceMetrics(commands, 'test'),
    events: new EventEmitter(),
  });
  return { path, service, commands };
}

function rawExchange(path: string, text: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = createConnection(path);
    let answer = '';
    socket.setEncoding('utf8');
    socket.on('connect', () => socket.write(text));
    socket.on('data', (chunk: string) => {
      answer += chunk;
      if (answer.endsWith('\n')) {
        socket.destroy();
        resolve(answer);
      }
    });
    socket.on('close', () => resolve(answer));
    socket.on('error', reject);
  });
}

describe('control socket', () => {
  it('answers registered commands and refuses unknown ones', async () => {
    const { path, service, commands } = control('a');
    commands.register('vm.list', () => [{ name: 'head', state: 'running' }]);
    commands.register('echo', (params) => params);
    await service.start();
    try {
      expect(statSync(path).mode & 0o777).toBe(0o600);
      expect(await callAppliance(path, 'vm.list')).toEqual([{ name: 'head', state: 'running' }]);
      expect(await callAppliance(path, 'echo', { a: 1 })).toEqual({ a: 1 });
      await expect(callAppliance(path, 'vm.frob')).rejects.toThrow('the running appliance has no command vm.frob');
    } finally {
      await service.close();
      await service.close();
    }
    expect(existsSync(path)).toBe(false);
  });

  it('answers a malformed line with an error and keeps serving', async () => {
    const { path, service, commands } = control('b');
    commands.register('status', () => 'ok');
    await service.start();
    try {
      expect(JSON.parse(await rawExchange(path, 'this is not json\n'))).toEqual({ id: 0, error: { code: 'E_PROTOCOL', message: 'not JSON' } });
      expect(await rawExchange(path, 'x'.repeat(70 * 1024))).toBe(''); // disconnected, no answer
      expect(await callAppliance(path, 'status')).toBe('ok');
    } finally {
      await service.close();
    }
  });

  it('refuses to start beside a running appliance, and replaces a stale socket file', async () => {
    const first = control('c');
    await first.service.start();
    const second = control('c');
    try {
      await expect(second.service.start()).rejects.toThrow(`control: another be serve is running (it answers on ${first.path})`);
    } finally {
      await first.service.close();
    }
    writeFileSync(first.path, ''); // what a killed process leaves behind
    await second.service.start();
    second.commands.register('status', () => 'fresh');
    expect(await callAppliance(second.path, 'status')).toBe('fresh');
    await second.service.close();
  });

  it('says when no appliance runs', async () => {
    const err = await callAppliance(join(dir, 'nobody', 'be.sock'), 'status').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BeError);
    expect((err as BeError).code).toBe('E_NOT_RUNNING');
    expect((err as BeError).message).toBe(`be serve is not running (nothing answers on ${join(dir, 'nobody', 'be.sock')})`);
  });
});
