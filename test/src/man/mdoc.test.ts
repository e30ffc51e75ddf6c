import { describe, expect, it } from 'vitest';
import { arg, inline, render } from '../../../src/man/mdoc.js';
import { blocks, wrap } from '../../../src/man/markup.js';

describe('markup', () => {
  it('reads paragraphs, literal blocks and lists', () => {
    expect(blocks('One\nline.\n\n    literal\n    two\n\n- a\n  b\n- c')).toEqual([
      { kind: 'text', text: 'One line.' },
      { kind: 'literal', lines: ['literal', 'two'] },
      { kind: 'list', items: ['a b', 'c'] },
    ]);
  });

  it('wraps without breaking a code span', () => {
    expect(wrap('see `be config show` now', 12)).toEqual(['see', '`be config show`', 'now']);
  });
});

describe('mdoc', () => {
  it('puts each sentence on a line of its own, but not after an abbreviation', () => {
    expect(inline('One. Two, e.g. Three? Four ... five.')).toEqual(['One.', 'Two, e.g. Three?', 'Four ... five.']);
    expect(inline('Ends at 8 s. 1468 fills a frame.')).toEqual(['Ends at 8 s.', '1468 fills a frame.']);
  });

  it('turns code, options, keys, references and FreeBSD into macros, punctuation kept outside', () => {
    const context = { keys: new Set(['nfs.network', 'dhcp']), program: 'be' };
    expect(inline('Set `nfs.network` (`be sharenfs`), or `-f`; mountd(8) reads `/etc/exports.be`.', context)).toEqual([
      'Set',
      '.Va nfs.network',
      '.Nm ( Cm sharenfs ) ,',
      'or',
      '.Fl f ;',
      '.Xr mountd 8',
      'reads',
      '.Ql /etc/exports.be .',
    ]);
    expect(inline("On FreeBSD 9.0 and FreeBSD's mirror, /pub/FreeBSD; `dhcp` is a word.", context)).toEqual([
      'On',
      '.Fx 9.0',
      'and',
      ".Fx Ns 's",
      'mirror, /pub/Free\\&BSD;',
      '.Ql dhcp',
      'is a word.',
    ]);
  });

  it('writes a reference to the page itself as .Nm', () => {
    expect(inline('See be.yaml(5).', { self: 'be.yaml(5)' })).toEqual(['See', '.Nm .']);
  });

  it('escapes backslashes, control characters at a line start and characters beyond ASCII', () => {
    expect(inline('.dot a\\b ’')).toEqual(['\\&.dot a\\eb \\[u2019]']);
    expect(arg('two words')).toBe('"two words"');
    expect(arg('say "x"')).toBe('"say \\(dqx\\(dq"');
    expect(arg('Ns')).toBe('\\&Ns');
    expect(arg('|')).toBe('\\&|');
  });

  it('wraps text lines within 80 bytes', () => {
    const lines = inline('word '.repeat(60).trim());
    expect(lines.length).toBeGreaterThan(3);
    for (const line of lines) expect(line.length).toBeLessThanOrEqual(80);
  });

  it('separates paragraphs with .Pp, and none before a display', () => {
    expect(render('One.\n\n    x: 1\n\nTwo.')).toEqual(['One.', '.Bd -literal -offset indent', 'x: 1', '.Ed', '.Pp', 'Two.']);
  });
});
