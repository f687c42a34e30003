// Just enough of Markdown (CommonMark as GitHub renders it) to check a page's links, headings and the commands in its
// code: fenced blocks, inline code spans, headings, inline links. Nothing here renders.

/** A fenced code block: its info string (`sh`, `yaml`, …, or '') and its text. */
export interface CodeBlock {
  lang: string;
  text: string;
  /** 1-based line of the opening fence. */
  line: number;
}

/** What {@link parseMarkdown} finds in a page. */
export interface MarkdownPage {
  /** Heading texts as written (inline Markdown kept), in order. */
  headings: string[];
  /** Inline links and images: the target as written (`path`, `path#anchor`, `#anchor`, `https://…`). */
  links: { target: string; line: number }[];
  /** Inline code spans outside fenced blocks, with line breaks folded to spaces. */
  spans: { text: string; line: number }[];
  blocks: CodeBlock[];
}

const FENCE = /^ {0,3}(`{3,}|~{3,})\s*([^`\s]*)/;

/** Split a page into headings, links, code spans and fenced blocks. */
export function parseMarkdown(source: string): MarkdownPage {
  const page: MarkdownPage = { headings: [], links: [], spans: [], blocks: [] };
  const lines = source.split('\n');
  // Text outside fences, with each line's number, so spans and links that run over a line break are found.
  let prose: { text: string; line: number }[] = [];
  const flushProse = (): void => {
    if (prose.length > 0) scanInline(prose, page);
    prose = [];
  };
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    const fence = FENCE.exec(line);
    if (fence) {
      flushProse();
      const marker = fence[1]!;
      const body: string[] = [];
      let j = i + 1;
      // A fence closes on a line of at least as many of the same characters and nothing else.
      while (j < lines.length && !new RegExp(`^ {0,3}${marker[0] === '`' ? '`' : '~'}{${marker.length},}\\s*$`).test(lines[j]!)) body.push(lines[j++]!);
      page.blocks.push({ lang: fence[2] ?? '', text: body.join('\n'), line: i + 1 });
      i = j;
      continue;
    }
    const heading = /^ {0,3}(#{1,6})\s+(.*?)(?:\s+#+)?\s*$/.exec(line);
    if (heading) page.headings.push(heading[2]!);
    if (line.trim() === '') flushProse();
    else prose.push({ text: line, line: i + 1 });
  }
  flushProse();
  return page;
}

/** Code spans and links of one paragraph (consecutive non-blank lines). */
function scanInline(paragraph: { text: string; line: number }[], page: MarkdownPage): void {
  const text = paragraph.map((p) => p.text).join('\n');
  const lineAt = (offset: number): number => paragraph[0]!.line + (text.slice(0, offset).match(/\n/g)?.length ?? 0);
  // Code spans first: a link's brackets inside code are not a link.
  let withoutCode = '';
  let last = 0;
  for (const m of text.matchAll(/(`+)(?!`)([\s\S]*?[^`])\1(?!`)/g)) {
    page.spans.push({ text: m[2]!.replace(/\n/g, ' ').trim(), line: lineAt(m.index) });
    withoutCode += text.slice(last, m.index) + ' '.repeat(m[0].length);
    last = m.index + m[0].length;
  }
  withoutCode += text.slice(last);
  for (const m of withoutCode.matchAll(/!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)) {
    page.links.push({ target: m[1]!, line: lineAt(m.index) });
  }
}

/**
 * The anchor GitHub gives a heading: its rendered text lower-cased, every character that is not a letter, a mark, a
 * number, `_`, `-` or a space dropped, spaces turned into `-` (github-slugger's rule). Repeats get `-1`, `-2`, … via
 * {@link headingAnchors}.
 */
export function slug(heading: string): string {
  const rendered = heading
    .replace(/!?\[([^\]]*)\]\([^)]*\)/g, '$1') // links and images: their text
    .replace(/`+([^`]*)`+/g, '$1'); // code spans: their content (emphasis `*` goes with the punctuation below)
  return rendered
    .toLowerCase()
    .replace(/[^\p{L}\p{M}\p{N}\p{Pc}\- ]/gu, '')
    .replace(/ /g, '-');
}

/** Every anchor a page's headings give, duplicates numbered as GitHub numbers them. */
export function headingAnchors(headings: readonly string[]): Set<string> {
  const seen = new Map<string, number>();
  const out = new Set<string>();
  for (const h of headings) {
    const base = slug(h);
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    out.add(n === 0 ? base : `${base}-${n}`);
  }
  return out;
}

/** Split a command line as a shell would for plain words and quotes (no expansions). */
export function shellWords(line: string): string[] {
  const words: string[] = [];
  for (const m of line.matchAll(/"((?:[^"\\]|\\.)*)"|'([^']*)'|(\S+)/g)) words.push(m[1] ?? m[2] ?? m[3]!);
  return words;
}
