/**
 * The status page as text: everything it needs is inside it, under the nonce the Content-Security-Policy
 * names (one <style>, one <script>, no style="" or on...= attribute, no URL of another origin), the
 * script parses, builds no HTML from strings, and carries the boot steps of src/boot/timeline.ts.
 * How it behaves in a browser is test/interop/status-page.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { bootSteps, stepLabels } from '../../../src/boot/timeline.js';
import { statusPage } from '../../../src/http/page.js';

const nonce = 'bm9uY2Utb2YtdGhlLXRlc3Q=';
const page = statusPage(nonce);
const scriptOf = (html: string) => /<script nonce="[^"]*">([\s\S]*?)<\/script>/.exec(html)?.[1] ?? '';

describe('statusPage', () => {
  it('is one whole document with one style and one script, both under the nonce', () => {
    expect(page.startsWith('<!doctype html>\n<html lang="en">')).toBe(true);
    expect(page.trimEnd().endsWith('</html>')).toBe(true);
    expect(page.match(/<style\b[^>]*>/g)).toEqual([`<style nonce="${nonce}">`]);
    expect(page.match(/<script\b[^>]*>/g)).toEqual([`<script nonce="${nonce}">`]);
    // The script ends where the page means it to: nothing in it closes the element or opens a comment.
    expect(page.match(/<\/script/gi)).toHaveLength(1);
    expect(scriptOf(page)).not.toContain('<!--');
  });

  it('needs nothing the policy forbids: no style or handler attributes, no other origin, a data: favicon', () => {
    expect(page).not.toMatch(/\sstyle\s*=/i);
    expect(page).not.toMatch(/\son[a-z]+\s*=/i);
    expect(page).not.toMatch(/(https?:)?\/\/[a-z0-9]/i);
    expect(page).not.toMatch(/<link\b(?![^>]*rel="icon" href="data:,")/);
    expect(page).toContain('<link rel="icon" href="data:,">');
    expect(page).not.toMatch(/<(img|iframe|object|embed|form)\b/);
  });

  it('builds the tables with createElement and textContent, never from HTML strings', () => {
    const script = scriptOf(page);
    for (const sink of ['innerHTML', 'outerHTML', 'insertAdjacentHTML', 'document.write', 'eval(', 'new Function', "setAttribute('style", 'srcdoc']) {
      expect(script, sink).not.toContain(sink);
    }
    expect(script).toContain('textContent');
    // Read-only: GETs (fetch without a method) and the event stream.
    expect(script).not.toMatch(/method\s*:/);
    expect(script).toContain("new EventSource('/api/events')");
  });

  it('has a script that parses, with the steps and their labels as data', () => {
    const script = scriptOf(page);
    expect(() => new Function(script)).not.toThrow();
    const steps = /const steps = (.*);/.exec(script)?.[1];
    const labels = /const labels = (.*);/.exec(script)?.[1];
    expect(JSON.parse(steps!)).toEqual(bootSteps);
    expect(JSON.parse(labels!)).toEqual(stepLabels);
    // A column per step, in order, after the host's own.
    const headings = [...page.matchAll(/<table id="hosts"><thead><tr>(.*?)<\/tr>/g)][0]![1]!.match(/<th[^>]*>([^<]*)<\/th>/g)!;
    expect(headings.slice(-bootSteps.length).map((h) => h.replace(/<[^>]*>/g, ''))).toEqual(bootSteps.map((s) => stepLabels[s]));
  });

  it('escapes the nonce it is given into its attributes', () => {
    const hostile = statusPage('x"><script>alert(1)</script>');
    expect(hostile.match(/<script\b/g)).toHaveLength(1);
    expect(hostile).toContain('nonce="x&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;"');
  });

  it('has the hooks the interop test and scripts use', () => {
    for (const id of ['live', 'hosts', 'pools', 'leases', 'envs', 'transfers', 'guests', 'version', 'services', 'uptime', 'problems']) {
      expect(page, id).toContain(`id="${id}"`);
    }
    const script = scriptOf(page);
    for (const hook of ['dataset.step', 'dataset.env', 'dataset.ip', 'dataset.vm', 'dataset.file', 'dataset.state']) {
      expect(script, hook).toContain(hook);
    }
  });
});
