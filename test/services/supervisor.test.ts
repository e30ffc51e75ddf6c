import { describe, expect, it } from 'vitest';
import { configSchema, type Config } from '../../src/config/schema.js';
import { createLogger } from '../../services/log.js';
import type { Service, ServiceKind } from '../../services/service.js';
import { Supervisor } from '../../services/supervisor.js';

const log = createLogger({ level: 'silent' });

/** A service that records its lifecycle in `events`, optionally failing to start. */
function recordingKind(name: string, events: string[], options: { failStart?: (config: Config) => boolean } = {}) {
  let instances = 0;
  let failLater: ((err: Error) => void) | undefined;
  const kind: ServiceKind = {
    name,
    enabled: (config) => (name === 'tftp' ? config.tftp.enabled : config.dhcp.enabled),
    settings: (config) => (name === 'tftp' ? config.tftp : config.dhcp),
    create: (context) => {
      const id = `${name}#${++instances}`;
      failLater = context.fail;
      let closed = false;
      const service: Service = {
        name,
        async start() {
          if (options.failStart?.(context.config)) {
            events.push(`${id} start failed`);
            throw new Error(`${name} cannot bind`);
          }
          events.push(`${id} start`);
        },
        async close() {
          if (closed) return;
          closed = true;
          events.push(`${id} close`);
        },
        async update(next) {
          events.push(`${id} update ${next.log.level}`);
        },
      };
      return service;
    },
  };
  return { kind, fail: (err: Error) => failLater?.(err) };
}

const config = (overrides: Record<string, unknown> = {}) => configSchema.parse(overrides);

describe('supervisor', () => {
  it('starts every enabled service and stops them in reverse order', async () => {
    const events: string[] = [];
    const supervisor = new Supervisor([recordingKind('tftp', events).kind, recordingKind('dhcp', events).kind], log);
    await supervisor.start(config());
    expect(supervisor.names).toEqual(['tftp', 'dhcp']);
    await supervisor.stop();
    await supervisor.stop();
    expect(await supervisor.done).toBeUndefined();
    expect(events).toEqual(['tftp#1 start', 'dhcp#1 start', 'dhcp#1 close', 'tftp#1 close']);
  });

  it('skips disabled services and honours --only', async () => {
    const events: string[] = [];
    const kinds = [recordingKind('tftp', events).kind, recordingKind('dhcp', events).kind];
    const only = new Supervisor(kinds, log, ['dhcp']);
    await only.start(config());
    expect(only.names).toEqual(['dhcp']);
    await only.stop();
    const disabled = new Supervisor(kinds, log);
    await disabled.start(config({ tftp: { enabled: false } }));
    expect(disabled.names).toEqual(['dhcp']);
    await disabled.stop();
  });

  it('refuses an unknown --only name, listing the known ones', () => {
    expect(() => new Supervisor([recordingKind('tftp', []).kind], log, ['tfpt'])).toThrow('--only tfpt: no such service (known: tftp)');
  });

  it('starts all or none: a failed start closes what was started', async () => {
    const events: string[] = [];
    const supervisor = new Supervisor([recordingKind('tftp', events).kind, recordingKind('dhcp', events, { failStart: () => true }).kind], log);
    await expect(supervisor.start(config())).rejects.toThrow('dhcp cannot bind');
    expect(events).toEqual(['tftp#1 start', 'dhcp#1 start failed', 'tftp#1 close']);
    expect(supervisor.names).toEqual([]);
  });

  it('stops everything when a running service fails', async () => {
    const events: string[] = [];
    const tftp = recordingKind('tftp', events);
    const supervisor = new Supervisor([tftp.kind, recordingKind('dhcp', events).kind], log);
    await supervisor.start(config());
    tftp.fail(new Error('socket closed under us'));
    const failure = await supervisor.done;
    expect(failure?.message).toBe('socket closed under us');
    expect(events.slice(-2)).toEqual(['dhcp#1 close', 'tftp#1 close']);
  });

  it('reload keeps services whose settings did not change and restarts the others', async () => {
    const events: string[] = [];
    const supervisor = new Supervisor([recordingKind('tftp', events).kind, recordingKind('dhcp', events).kind], log);
    await supervisor.start(config());
    await supervisor.reload(config({ log: { level: 'debug' } }));
    // Unchanged settings: the same instances, told about the new configuration, no socket closed.
    expect(events).toEqual(['tftp#1 start', 'dhcp#1 start', 'tftp#1 update debug', 'dhcp#1 update debug']);
    events.length = 0;
    await supervisor.reload(config({ tftp: { port: 6969 } }));
    expect(events).toEqual(['tftp#1 close', 'tftp#2 start', 'dhcp#1 update info']);
    await supervisor.reload(config({ tftp: { port: 6969 }, dhcp: { enabled: false } }));
    expect(events.at(-2)).toBe('dhcp#1 close');
    expect(supervisor.names).toEqual(['tftp']);
    await supervisor.reload(config({ tftp: { port: 6969 } }));
    expect(events.slice(-2)).toEqual(['tftp#2 update info', 'dhcp#2 start']);
    await supervisor.stop();
  });

  it('a running service can refuse a reload before anything changes: every service keeps the running configuration', async () => {
    const events: string[] = [];
    const dhcp = recordingKind('dhcp', events);
    const refusing: ServiceKind = {
      ...dhcp.kind,
      create: (context) => {
        const service = dhcp.kind.create(context);
        return Object.assign(service, {
          check(next: Config) {
            if (next.hosts.some((h) => h.ip === '10.50.0.5')) throw new Error('hosts[0].ip 10.50.0.5 (lab1) is on no network this DHCP server serves');
          },
        });
      },
    };
    const supervisor = new Supervisor([recordingKind('tftp', events).kind, refusing], log);
    await supervisor.start(config());
    const bad = config({ log: { level: 'debug' }, hosts: [{ name: 'lab1', mac: '02:00:00:00:0a:01', ip: '10.50.0.5' }] });
    await expect(supervisor.reload(bad)).rejects.toThrow('10.50.0.5 (lab1) is on no network');
    // Neither service was told anything, and the boot snapshot still holds the running configuration.
    expect(events).toEqual(['tftp#1 start', 'dhcp#1 start']);
    expect(supervisor.boot.current.config.hosts).toEqual([]);
    await supervisor.reload(config({ log: { level: 'debug' } }));
    expect(events.slice(2)).toEqual(['tftp#1 update debug', 'dhcp#1 update debug']);
    await supervisor.stop();
  });

  it('reload restores the previous settings when the new ones cannot start', async () => {
    const events: string[] = [];
    const tftp = recordingKind('tftp', events, { failStart: (c) => c.tftp.port === 1 });
    const supervisor = new Supervisor([tftp.kind], log);
    await supervisor.start(config());
    await supervisor.reload(config({ tftp: { port: 1 } }));
    expect(events).toEqual(['tftp#1 start', 'tftp#1 close', 'tftp#2 start failed', 'tftp#3 start']);
    expect(supervisor.names).toEqual(['tftp']);
    await supervisor.stop();
    expect(await supervisor.done).toBeUndefined();
  });
});
