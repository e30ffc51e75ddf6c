/**
 * The light text format of the schema's descriptions and the manual's prose, read into blocks that
 * the YAML comments (src/config/annotate.ts) and mdoc (src/man/mdoc.ts) each render their own way:
 * paragraphs are separated by a blank line, a paragraph indented four spaces is literal, one whose
 * lines start with "- " is a list, and `backticks` mark literal text inside a paragraph.
 */

export type Block = { kind: 'text'; text: string } | { kind: 'literal'; lines: string[] } | { kind: 'list'; items: string[] };

export function blocks(markup: string): Block[] {
  return markup
    .split(/\n[ \t]*\n/)
    .map((paragraph) => paragraph.replace(/^\n+|\s+$/g, ''))
    .filter((paragraph) => paragraph.trim() !== '')
    .map(block);
}

function block(paragraph: string): Block {
  const lines = paragraph.split('\n');
  if (lines.every((line) => line.startsWith('    '))) return { kind: 'literal', lines: lines.map((line) => line.slice(4)) };
  if (lines[0]!.startsWith('- ')) {
    // An item runs on over the lines that do not start a new one.
    const items: string[] = [];
    for (const line of lines) {
      if (line.startsWith('- ')) items.push(line.slice(2).trim());
      else items[items.length - 1] += ` ${line.trim()}`;
    }
    return { kind: 'list', items };
  }
  return { kind: 'text', text: lines.map((line) => line.trim()).join(' ') };
}

/** Words for wrapping: a `code span` with the punctuation around it stays one word. */
export function words(text: string): string[] {
  return text.match(/(?:`[^`]*`|[^\s`])+/g) ?? [];
}

/** Greedy word wrap; a word longer than the width gets a line of its own. */
export function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of words(text)) {
    if (line !== '' && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else line = line === '' ? word : `${line} ${word}`;
  }
  if (line !== '') lines.push(line);
  return lines;
}
