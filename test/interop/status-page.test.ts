/**
 * The status page in a real browser while a host boots: be serve (DHCP, TFTP, HTTP, exports, control) in
 * one namespace with a PXE-bootable `dir` boot environment assigned to a host, and Debian's Chromium,
 * headless, driven by puppeteer-core, in the same namespace (http.allow is loopback by default), opening
 * http://127.0.0.1:8080/. The host's side is played as in boot-timeline.test.ts: udhcpc asking like PXE
 * firmware, busybox tftp fetching the loader, udhcpc asking like FreeBSD's loader, then the kernel over
 * HTTP, read slowly so that the transfers table shows it moving. After each step the host's row must
 * show it, from the event stream, before the next is taken: the page is never reloaded, raises no error
 * and asks nothing of any other origin. Then be serve restarts: the page says disconnected, reconnects
 * and reads everything again. A screenshot is kept in test/artifacts/status-page.png.
 */
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import puppeteer, { type Browser, type Page } from 'puppeteer-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { packageRoot } from '../../services/config.js';
import { beMain } from '../cli/be.js';
import { Lan } from '../lan/netns.js';
import { needPeers } from '../lan/peers.js';
import { type RunningBe, serveBe } from '../lan/serve.js';
import { makeClient, recorderScript, records } from './dhcp/lan.js';

const peers = needPeers('status page in Chromium while a host boots', ['ip', 'udhcpc', 'busybox', 'chromium'], { root: true });
const mac = '52:54:00:be:15:02';
const origin = 'http://127.0.0.1:8080';
const screenshot = join(packageRoot(), 'test', 'artifacts', 'status-page.png');
/** Big enough that, read slowly (slowGet), its download is under way for seconds: the transfers table shows it. */
const kernel = randomBytes(8 * 1024 * 1024);
/**
 * A slow HTTP client: a pause after every chunk read keeps the socket's buffers small, so the server
 * sees the download under way for seconds (curl --limit-rate does not: the kernel's buffers take the
 * whole file at once, and the server is done). Prints the status and the bytes read.
 */
const slowGet = `import { createWriteStream } from 'node:fs';
import { get } from 'node:http';
const [url, out] = process.argv.slice(2);
get(url, (res) => {
  const file = createWriteStream(out);
  let bytes = 0;
  res.on('data', (chunk) => {
    bytes += chunk.length;
    file.write(chunk);
    res.pause();
    setTimeout(() => res.resume(), 40);
  });
  res.on('end', () => file.end(() => process.stdout.write(res.statusCode + ' ' + bytes)));
}).on('error', (err) => {
  process.stderr.write(err.message);
  process.exit(1);
});
`;

// What the checks read in the page; the test's tsconfig has no DOM library, so this is the little they use.
interface PageGlobal {
  __loadedOnce?: number;
  document: { querySelector(selector: string): { textContent: string | null } | null };
}

describe.skipIf(peers.skip)('the status page shows a host boot, step by step, live', { timeout: 180_000 }, () => {
  // Made in beforeAll: vitest runs this body even when the suite is skipped, and afterAll would not remove it then.
  const dir = join(tmpdir(), `be-status-page-${process.pid}`);
  const envs = join(dir, 'envs');
  let lan: Lan | undefined;
  let serve: RunningBe | undefined;
  let browser: Browser | undefined;
  let page: Page | undefined;
  let flags: string[];
  const errors: string[] = [];
  const outside: string[] = [];
  let loads = 0;
  let navigations = 0;

  afterAll(async () => {
    try {
      await page?.close();
      await browser?.close();
    } finally {
      await serve?.stop();
      lan?.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  beforeAll(async () => {
    mkdirSync(dir, { recursive: true });
    lan = Lan.create({ hosts: ['server', 'pc'], subnet: '10.92.0' });
    for (const [file, text] of [
      ['boot/pxeboot', 'PXEBOOT of head'],
      ['boot/kernel/kernel', kernel],
    ] as const) {
      mkdirSync(join(envs, 'head', file, '..'), { recursive: true });
      writeFileSync(join(envs, 'head', file), text);
    }
    flags = [
      ...['--set', 'be.backend=dir', '--set', `be.root=${envs}`, '--set', `server.stateDir=${join(dir, 'state')}`],
      ...['--set', 'server.address=10.92.0.1', '--set', 'nfs.network=10.92.0.0/24', '--set', `nfs.exportsFile=${join(dir, 'exports')}`],
      ...['--set', 'nfs.reload=["true"]', '--set', 'dhcp.mode=authoritative', '--set', 'dhcp.range={start: 10.92.0.100, end: 10.92.0.150}'],
      ...['--set', `dhcp.leaseFile=${join(dir, 'leases')}`, '--set', `tftp.root=${join(dir, 'state', 'tftp')}`],
      // http.address stays 0.0.0.0: the browser in the server's namespace comes from loopback, which http.allow admits.
      ...['--set', 'http.enabled=true', '--set', 'http.port=8080'],
      ...['--set', 'hosts.0.name=pc', '--set', `hosts.0.mac=${mac}`],
    ];
    const bootpxe = await lan.run('server', ['node', beMain, ...flags, 'bootpxe', 'head', '--host', 'pc'], { timeoutMs: 60_000 });
    expect(bootpxe.exitCode, String(bootpxe.stderr)).toBe(0);
    serve = await serveBe(lan, 'server', { settings: flags });
    makeClient(lan, 'pc', mac);

    // Chromium in the server's namespace: puppeteer starts this wrapper as the browser, on a pipe.
    const wrapper = join(dir, 'chromium-in-server');
    writeFileSync(wrapper, `#!/bin/sh\nexec ip netns exec ${lan.host('server').ns} /usr/bin/chromium "$@"\n`);
    chmodSync(wrapper, 0o755);
    browser = await puppeteer.launch({
      executablePath: wrapper,
      headless: true,
      pipe: true,
      args: ['--no-sandbox', '--disable-gpu', '--no-proxy-server', '--disable-features=Translate,OptimizationHints,MediaRouter'],
    });
    page = await browser.newPage();
    await page.setViewport({ width: 1500, height: 900 });
    page.on('console', (message) => {
      if (message.type() === 'error') errors.push(`console: ${message.text()}`);
    });
    page.on('pageerror', (err) => errors.push(`pageerror: ${String(err)}`));
    page.on('requestfailed', (request) => errors.push(`requestfailed: ${request.url()} ${request.failure()?.errorText ?? ''}`));
    page.on('load', () => loads++);
    page.on('framenavigated', (frame) => {
      if (frame === page!.mainFrame()) navigations++;
    });
    await page.setRequestInterception(true);
    page.on('request', (request) => {
      if (new URL(request.url()).origin === origin) return void request.continue();
      outside.push(request.url());
      return void request.abort();
    });
    const response = await page.goto(`${origin}/`, { waitUntil: 'load' });
    expect(response?.status()).toBe(200);
    expect(response?.headers()['content-security-policy']).toContain("script-src 'nonce-");
    await page.evaluate(() => {
      (globalThis as unknown as PageGlobal).__loadedOnce = Date.now();
    });
  });

  /** Waits until the selector matches in the page (no timed assertion: the bound is only against a hang). */
  const shown = (selector: string) => page!.waitForSelector(selector, { timeout: 30_000 });
  const text = (selector: string) => page!.$eval(selector, (e) => e.textContent ?? '');
  const stepCell = (step: string) => `#hosts tr[data-host="pc"] td[data-step="${step}"]`;
  const notYet = async (step: string) => expect(await page!.$eval(stepCell(step), (td) => td.classList.contains('done'))).toBe(false);
  const run = async (argv: string[]) => {
    const result = await lan!.run('pc', argv);
    expect(result.exitCode, `${argv.join(' ')}: ${String(result.stderr)}`).toBe(0);
  };

  it('shows the appliance, the host and the PXE-bootable BE before the boot', async () => {
    await shown('#live.live[data-state="live"]');
    expect(await text('#live')).toBe('live');
    await shown('#hosts tr[data-host="pc"]');
    expect(await text('#version')).toMatch(/^\d+\.\d+\.\d+/);
    expect((await text('#services')).split(', ')).toEqual(expect.arrayContaining(['tftp', 'http', 'dhcp']));
    const row = await page!.$$eval('#hosts tr[data-host="pc"] td', (tds) => tds.map((td) => td.textContent));
    expect(row.slice(0, 5)).toEqual(['pc', mac, '–', 'head', 'pxe']);
    expect(await page!.$$eval('#hosts tr[data-host="pc"] td.step.done', (tds) => tds.length)).toBe(0);
    await shown('#envs tr[data-env="head"]');
    expect(await text('#envs tr[data-env="head"] td.state')).toContain('PXE');
    expect(await text('#envs tr[data-env="head"] td:nth-child(5)')).toBe('pc');
  });

  it('adds each step to the host row as it happens, without a reload', async () => {
    const script = recorderScript(
      dir,
      'udhcpc.sh',
      'echo "event reason=$1 ip=$ip boot_file=$boot_file rootpath=$rootpath" >> "$0.out"\n[ "$1" = bound ] && ip addr replace "$ip/24" dev eth0',
    );
    const udhcpc = ['udhcpc', '-i', 'eth0', '-n', '-q', '-f', '-s', script, '-t', '5', '-T', '1'];

    // The firmware's DHCP (PXEClient:Arch:..., option 93): the boot file names the BE.
    await run([...udhcpc, '-V', 'PXEClient:Arch:00000:UNDI:002001', '-x', '0x5d:0000', '-O', 'bootfile']);
    const bound = records(`${script}.out`).find((r) => r.reason === 'bound');
    expect(bound?.boot_file).toBe('head/boot/pxeboot');
    const ip = bound!.ip!;
    await shown(`${stepCell('firmware-dhcp')}.done`);
    await notYet('loader-fetched');
    expect(await text(`${stepCell('firmware-dhcp')} .d`)).toBe('head/boot/pxeboot');
    expect(await text(`${stepCell('firmware-dhcp')} .t`)).toBe('+0.0 s');
    // The lease, in the leases table and in the host's row.
    await shown(`#leases tr[data-ip="${ip}"]`);
    const lease = await page!.$$eval(`#leases tr[data-ip="${ip}"] td`, (tds) => tds.map((td) => td.textContent));
    expect(lease.slice(0, 5)).toEqual([ip, mac, 'pc', expect.any(String), 'bound']);
    await page!.waitForFunction(
      (address: string) => (globalThis as unknown as PageGlobal).document.querySelector('#hosts tr[data-host="pc"] td:nth-child(3)')?.textContent === address,
      { timeout: 30_000 },
      ip,
    );

    // The loader by its plain name (the server maps the address to pc, and pc to head).
    await run(['busybox', 'tftp', '-g', '-r', 'boot/pxeboot', '-l', join(dir, 'pxeboot.out'), '10.92.0.1']);
    await shown(`${stepCell('loader-fetched')}.done`);
    await notYet('loader-dhcp');
    expect(await text(`${stepCell('loader-fetched')} .d`)).toBe('boot/pxeboot');

    // FreeBSD's loader asks again (user class FreeBSD) and gets its root-path.
    await run([...udhcpc, '-V', 'PXEClient', '-x', '0x4d:0746726565425344', '-O', 'rootpath']);
    await shown(`${stepCell('loader-dhcp')}.done`);
    await notYet('kernel-fetched');
    expect(await text(`${stepCell('loader-dhcp')} .d`)).toBe(`10.92.0.1:${envs}/head`);

    // The kernel, over HTTP this time and slowly: the transfer shows with its progress while under
    // way, and the step (which says HTTP) once it is done.
    writeFileSync(join(dir, 'slow-get.mjs'), slowGet);
    // pc's receive buffers small (a namespace's own sysctl): else the kernel takes the whole file
    // at once, and from the server's side the download is over before anything shows it.
    await run(['sysctl', '-q', '-w', 'net.ipv4.tcp_rmem=4096 16384 65536']);
    const download = lan!.run('pc', ['node', join(dir, 'slow-get.mjs'), 'http://10.92.0.1:8080/head/boot/kernel/kernel', join(dir, 'kernel.out')], {
      timeoutMs: 90_000,
    });
    await shown('#transfers tr[data-file] progress');
    const transfer = await page!.$$eval('#transfers tr[data-file] td', (tds) => tds.map((td) => td.textContent));
    expect(transfer[0]).toBe('HTTP');
    expect(transfer[1]).toContain('kernel/kernel');
    expect(transfer[2]).toMatch(new RegExp(`^${ip.replace(/\./g, '\\.')}:\\d+$`));
    expect(transfer[3]).toMatch(/ \/ 8\.0 MiB \(\d+ %\)$/);
    // And it moves: a later transfers event, the same row, further on.
    await page!.waitForFunction(
      (first: string) => {
        const now = (globalThis as unknown as PageGlobal).document.querySelector('#transfers tr[data-file] td:nth-child(4)')?.textContent;
        return now !== undefined && now !== first;
      },
      { timeout: 30_000 },
      transfer[3]!,
    );
    const done = await download;
    expect(done.exitCode, String(done.stderr)).toBe(0);
    expect(String(done.stdout)).toBe(`200 ${kernel.length}`);
    expect(readFileSync(join(dir, 'kernel.out')).equals(kernel)).toBe(true);
    await shown(`${stepCell('kernel-fetched')}.done.last`);
    expect(await text(`${stepCell('kernel-fetched')} .d`)).toBe('head/boot/kernel/kernel (HTTP)');

    // Every step in order, times from the first, nothing for the steps not taken.
    const cells = await page!.$$eval('#hosts tr[data-host="pc"] td[data-step]', (tds) =>
      tds.map((td) => [td.getAttribute('data-step'), td.classList.contains('done'), td.querySelector('.t')?.textContent ?? null]),
    );
    expect(cells.map(([step, done]) => [step, done])).toEqual([
      ['wol', false],
      ['firmware-dhcp', true],
      ['loader-fetched', true],
      ['loader-dhcp', true],
      ['kernel-fetched', true],
      ['nfs-mount', false],
    ]);
    const times = cells.filter(([, done]) => done).map(([, , t]) => Number(/^\+(\d+\.\d) s$/.exec(String(t))?.[1]));
    expect(times.every((t) => Number.isFinite(t))).toBe(true);
    expect([...times].sort((a, b) => a - b)).toEqual(times);

    // The same document all along: no reload, no second navigation.
    expect(await page!.evaluate(() => typeof (globalThis as unknown as PageGlobal).__loadedOnce)).toBe('number');
    expect(loads).toBe(1);
    expect(navigations).toBe(1);
    expect(await text('#live')).toBe('live');
    // The transfers event's empty list after the last one ended.
    await page!.waitForFunction(() => (globalThis as unknown as PageGlobal).document.querySelector('#transfers tbody')?.textContent === 'none under way', {
      timeout: 30_000,
    });

    mkdirSync(join(screenshot, '..'), { recursive: true });
    await page!.screenshot({ path: screenshot, fullPage: true });
    expect({ errors, outside }).toEqual({ errors: [], outside: [] });
  });

  it('says disconnected while be serve is down, and reads everything again once it is back', async () => {
    const pid = await text('#pid');
    await serve!.stop();
    await shown('#live.disconnected[data-state="disconnected"]');
    expect(await text('#live')).toBe('disconnected');
    serve = await serveBe(lan!, 'server', { settings: flags });
    // EventSource reconnects by itself; the hello of the new connection makes the page read the API again.
    await shown('#live.live');
    await page!.waitForFunction(
      (old: string) => {
        const now = (globalThis as unknown as PageGlobal).document.querySelector('#pid')?.textContent;
        return now !== old && now !== '–';
      },
      { timeout: 30_000 },
      pid,
    );
    // The host row is the new server's account of pc, whatever it kept.
    const api = await page!.evaluate(
      async () => (await (await fetch('/api/hosts')).json()) as { name: string; lastBoot: { events: { step: string }[] } | null }[],
    );
    const expected = [...new Set(api.find((h) => h.name === 'pc')?.lastBoot?.events.map((e) => e.step) ?? [])];
    await page!.waitForFunction(
      (steps: string[]) => {
        const done = [
          ...(globalThis as unknown as { document: { querySelectorAll(s: string): { getAttribute(a: string): string | null }[] } }).document.querySelectorAll(
            '#hosts tr[data-host="pc"] td.step.done',
          ),
        ];
        return JSON.stringify(done.map((td) => td.getAttribute('data-step'))) === JSON.stringify(steps);
      },
      { timeout: 30_000 },
      expected,
    );
    expect(await page!.evaluate(() => typeof (globalThis as unknown as PageGlobal).__loadedOnce)).toBe('number');
    expect(loads).toBe(1);
    // be serve ends the stream cleanly when it stops (no ERR_INCOMPLETE_CHUNKED_ENCODING); its
    // reconnections were refused while it was down; nothing else failed.
    expect(errors.filter((e) => !/ERR_CONNECTION_REFUSED/.test(e))).toEqual([]);
    expect(outside).toEqual([]);
  });
});
