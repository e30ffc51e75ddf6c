import { describe, expect, it } from 'vitest';
import { bootsKept, classifyDownload, formatTimeline, Timelines } from '../../../src/boot/timeline.js';

const hosts: Record<string, string> = { '02:01:02:03:04:05': 'head' };

describe('boot timeline', () => {
  it('classifies downloads: loaders and kernels, not modules or scripts', () => {
    expect(classifyDownload('boot/pxeboot')).toBe('loader-fetched');
    expect(classifyDownload('/boot/loader.efi')).toBe('loader-fetched');
    expect(classifyDownload('boot/kernel/kernel')).toBe('kernel-fetched');
    expect(classifyDownload('boot/vmlinuz')).toBe('kernel-fetched');
    expect(classifyDownload('boot/kernel/zfs.ko')).toBeUndefined();
    expect(classifyDownload('boot/lua/loader.lua')).toBeUndefined();
    expect(classifyDownload('boot/initrd.gz')).toBeUndefined();
  });

  it('follows one machine from wake-up to kernel, naming TFTP clients by their DHCP address', () => {
    const t = new Timelines((mac) => hosts[mac]);
    t.record({ step: 'wol', at: 1000, mac: '02:01:02:03:04:05' });
    t.record({ step: 'firmware-dhcp', at: 4000, mac: '02:01:02:03:04:05', ip: '10.99.0.50', detail: 'boot/pxeboot' });
    t.record({ step: 'loader-fetched', at: 4500, ip: '10.99.0.50', detail: 'boot/pxeboot' });
    t.record({ step: 'loader-dhcp', at: 6000, mac: '02:01:02:03:04:05', ip: '10.99.0.50', detail: '10.99.0.1:/ROOT/head' });
    t.record({ step: 'kernel-fetched', at: 9000, ip: '10.99.0.50', detail: 'boot/kernel/kernel' });
    const head = t.get('head')!;
    expect(head).toMatchObject({ key: 'head', host: 'head', mac: '02:01:02:03:04:05', ip: '10.99.0.50' });
    expect(head.events.map((e) => e.step)).toEqual(['wol', 'firmware-dhcp', 'loader-fetched', 'loader-dhcp', 'kernel-fetched']);
    expect(t.get('02:01:02:03:04:05')).toBe(head);
    expect(formatTimeline(head)).toEqual([
      '+   0.0 s  Wake-on-LAN sent',
      '+   3.0 s  firmware DHCP         boot/pxeboot',
      '+   3.5 s  loader fetched        boot/pxeboot',
      '+   5.0 s  loader DHCP           10.99.0.1:/ROOT/head',
      '+   8.0 s  kernel fetched        boot/kernel/kernel',
    ]);
  });

  it('starts a new boot when the firmware asks again after later steps, and keeps retries in one', () => {
    const t = new Timelines();
    t.record({ step: 'firmware-dhcp', at: 1, mac: '02:00:00:00:00:01', ip: '10.99.0.7' });
    t.record({ step: 'firmware-dhcp', at: 2, mac: '02:00:00:00:00:01', ip: '10.99.0.7' });
    t.record({ step: 'loader-fetched', at: 3, ip: '10.99.0.7' });
    expect(t.get('02:00:00:00:00:01')!.events).toHaveLength(3);
    t.record({ step: 'firmware-dhcp', at: 10, mac: '02:00:00:00:00:01', ip: '10.99.0.7' });
    expect(t.get('02:00:00:00:00:01')!.events.map((e) => e.at)).toEqual([10]);
  });

  it(`keeps the last ${bootsKept} boots of a machine, oldest first`, () => {
    const t = new Timelines((mac) => hosts[mac]);
    expect(t.boots('head')).toEqual([]);
    for (let boot = 0; boot < bootsKept + 2; boot++) {
      t.record({ step: 'firmware-dhcp', at: boot * 100, mac: '02:01:02:03:04:05', ip: '10.99.0.50' });
      t.record({ step: 'kernel-fetched', at: boot * 100 + 50, ip: '10.99.0.50' });
    }
    const boots = t.boots('02:01:02:03:04:05');
    expect(boots).toHaveLength(bootsKept);
    expect(boots.map((b) => b.events[0]!.at)).toEqual(Array.from({ length: bootsKept }, (_, i) => (i + 2) * 100));
    expect(boots.at(-1)).toBe(t.get('head'));
    expect(boots.every((b) => b.events.length === 2)).toBe(true);
  });

  it('keeps downloads from unknown addresses apart', () => {
    const t = new Timelines();
    t.record({ step: 'loader-fetched', at: 1, ip: '10.99.0.9' });
    expect(t.all().map((x) => x.key)).toEqual(['ip:10.99.0.9']);
  });
});
