/**
 * The markup of src/man/markup.ts as mdoc(7) lines. mdoc wants each macro at the start of a line and
 * each sentence on a line of its own (mandoc -Tlint says so otherwise), so running text is cut into
 * text lines and macro lines: `code` becomes .Ql (.Fl for an option, .Va for a configuration key),
 * name(8) becomes .Xr and the word FreeBSD becomes .Fx, as mandoc asks.
 */
import { blocks, wrap } from './markup.js';

export interface InlineContext {
  /** Configuration keys, written as .Va when quoted in backticks. */
  keys?: ReadonlySet<string>;
  /** The page itself, as `be.yaml(5)`: a reference to it is .Nm, not .Xr (mandoc: cross reference to self). */
  self?: string;
  /** The program the page documents: `be serve` in backticks is then .Nm and .Cm. */
  program?: string;
}

type Piece = { text: string } | { macro: string; args: string[] };

/** Characters mdoc reads as punctuation when they stand alone as an argument. */
const delimiter = /^[.,:;)\]?!([|]+$/;
const closing = /^([.,:;)\]?!]+)(?=\s|$)/;

/** A backslash and any character beyond ASCII as roff escapes. */
function roffEscape(text: string): string {
  return text.replace(/\\/g, '\\e').replace(/[^\x20-\x7e\t]/gu, (c) => `\\[u${c.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}]`);
}

/** A line of text; one starting with a control character is protected with \&. */
export function textLine(text: string): string {
  const escaped = roffEscape(text);
  return /^[.']/.test(escaped) ? `\\&${escaped}` : escaped;
}

/** One macro argument: quoted when it has blanks, protected when mdoc would read it as a macro or a delimiter. */
export function arg(text: string): string {
  const escaped = roffEscape(text).replace(/"/g, '\\(dq');
  if (escaped === '' || /\s/.test(escaped)) return `"${escaped}"`;
  if (delimiter.test(escaped) || /^[A-Z][a-z][a-z]?$/.test(escaped)) return `\\&${escaped}`;
  return escaped;
}

export function macro(name: string, ...args: string[]): string {
  return [`.${name}`, ...args.map(arg)].join(' ');
}

function codePiece(code: string, context: InlineContext): Piece {
  if (/^--?[A-Za-z][\w-]*$/.test(code)) return { macro: 'Fl', args: [code.slice(1)] };
  const [first, ...commands] = code.split(' ');
  if (first === context.program && commands.every((word) => /^[a-z][a-z-]*$/.test(word))) {
    return commands.length > 0 ? { macro: 'Nm Cm', args: commands } : { macro: 'Nm', args: [] };
  }
  // A key, not a section: `dhcp.range` is .Va, `dhcp` could be a word.
  if (code.includes('.') && context.keys?.has(code)) return { macro: 'Va', args: [code] };
  return { macro: 'Ql', args: [code] };
}

/** Running text as pieces: plain text, and the macros it holds. */
function pieces(text: string, context: InlineContext): Piece[] {
  const out: Piece[] = [];
  const pattern = /`([^`]+)`|\b([A-Za-z][\w.+-]*)\(([1-9])\)|FreeBSD(?: (\d+\.\d+)\b)?/g;
  let last = 0;
  for (const match of text.matchAll(pattern)) {
    const start = match.index;
    let piece: Piece;
    if (match[1] !== undefined) piece = codePiece(match[1], context);
    else if (match[2] !== undefined) {
      piece = `${match[2]}(${match[3]})` === context.self ? { macro: 'Nm', args: [] } : { macro: 'Xr', args: [match[2], match[3]!] };
    } else {
      // The operating system as a word is .Fx; inside a path or a name (/pub/FreeBSD) it stays text, split so mandoc does not take it for the word.
      const before = text[start - 1];
      const after = text[start + match[0].length];
      if ((before !== undefined && !/[\s(]/.test(before)) || (after !== undefined && /[\w/-]/.test(after))) {
        out.push({ text: text.slice(last, start) + 'Free\\&BSD' });
        last = start + 'FreeBSD'.length;
        continue;
      }
      piece = { macro: 'Fx', args: match[4] ? [match[4]] : [] };
    }
    out.push({ text: text.slice(last, start) }, piece);
    last = start + match[0].length;
  }
  out.push({ text: text.slice(last) });
  return out;
}

/** Words ending in a period that do not end a sentence. */
const abbreviation = /(?:^|[\s(])(?:e\.g|i\.e|cf|vs|\.\.)\.$/;

/** Text with one sentence a line: a line ends after `.`, `?` or `!` and a blank, unless an abbreviation ends there. */
function sentenceLines(text: string): string[] {
  const lines: string[] = [];
  let start = 0;
  for (const match of text.matchAll(/[.?!][)"']*\s+/g)) {
    const end = match.index + match[0].trimEnd().length;
    if (abbreviation.test(text.slice(start, end))) continue;
    lines.push(text.slice(start, end));
    start = match.index + match[0].length;
  }
  lines.push(text.slice(start));
  return lines.map((line) => line.trim()).filter((line) => line !== '');
}

/** mandoc wants text lines of at most 80 bytes; this leaves room for a \\& at either end. */
const textWidth = 76;

/** Text lines, one sentence a line, wrapped; the escapes of `pieces` (Free\&BSD) are kept and everything else escaped. */
function textLines(text: string): string[] {
  return sentenceLines(text).flatMap((sentence) => {
    const escaped = sentence
      .split('\\&')
      .map((part) => roffEscape(part))
      .join('\\&');
    return wrap(escaped, textWidth).map((line) =>
      (/^[.']/.test(line) ? `\\&${line}` : line)
        // An abbreviation at the end of a line is not the end of a sentence.
        .replace(abbreviation, '$&\\&'),
    );
  });
}

/** One paragraph of running text as mdoc lines. */
export function inline(text: string, context: InlineContext = {}): string[] {
  const lines: string[] = [];
  let pending = '';
  const list = pieces(text, context);
  for (let i = 0; i < list.length; i++) {
    const piece = list[i]!;
    if ('text' in piece) {
      pending += piece.text;
      continue;
    }
    const args = piece.args.map(arg);
    // What touches the macro on its left: an opening parenthesis is an argument, a word goes before .Ns.
    const left = /(\S+)$/.exec(pending)?.[1];
    let prefix = '';
    const openers: string[] = [];
    if (left !== undefined) {
      pending = pending.slice(0, -left.length);
      if (/^[([]+$/.test(left)) openers.push(...left.split(''));
      else prefix = `.No ${arg(left)} Ns `;
    }
    lines.push(...textLines(pending));
    pending = '';
    // What touches it on the right: closing punctuation is an argument, a word follows .Ns.
    const next = list[i + 1];
    if (next && 'text' in next) {
      const punctuation = closing.exec(next.text)?.[1];
      if (punctuation !== undefined) {
        args.push(...punctuation.split(''));
        next.text = next.text.slice(punctuation.length);
      } else {
        const word = /^[^\s`]+/.exec(next.text)?.[0];
        if (word !== undefined) {
          args.push('Ns', arg(word));
          next.text = next.text.slice(word.length);
        }
      }
    }
    // Opening punctuation follows the first macro: `.Nm ( Cm install` reads "(be install".
    const [first, ...more] = piece.macro.split(' ');
    const words = [first!, ...openers, ...more, ...args];
    lines.push(`${prefix === '' ? '.' : prefix}${words.join(' ')}`);
  }
  lines.push(...textLines(pending));
  return lines;
}

/** Markup (paragraphs, literal blocks, lists) as mdoc, paragraphs separated by .Pp. */
export function render(markup: string, context: InlineContext = {}): string[] {
  const out: string[] = [];
  for (const block of blocks(markup)) {
    // A display or a list brings its own space; .Pp before one is skipped, with a warning.
    if (out.length > 0 && block.kind === 'text') out.push('.Pp');
    if (block.kind === 'text') out.push(...inline(block.text, context));
    else if (block.kind === 'literal') out.push('.Bd -literal -offset indent', ...block.lines.map(textLine), '.Ed');
    else out.push('.Bl -bullet', ...block.items.flatMap((item) => ['.It', ...inline(item, context)]), '.El');
  }
  return out;
}
