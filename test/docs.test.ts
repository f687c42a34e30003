// README.md and docs/*.md against the repository: every relative link resolves and every #anchor names a heading
// (GitHub's anchors), every `npm run <script>` is a script of package.json, every repository path written in code
// exists, every `sweepq <command>` (`npx sweepq …`, `npm run sweepq -- …`) and `npm start -- …` uses a command and flags
// the program's own --help lists, architecture.md's package table is the workspaces' dependency graph, and README links
// every page of docs/ and stays within its line budget. No network;
// the CLI's commands and options come from its commander program (`buildProgram`), the demo's from `npm start -- --help`.
import { execFile } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildProgram } from '@sweepq/cli';
import { headingAnchors, parseMarkdown, shellWords, type MarkdownPage } from './helpers/markdown.js';

const execFileAsync = promisify(execFile);
const root = resolve(import.meta.dirname, '..');
const rootPackage = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { scripts: Record<string, string>; workspaces: string[] };

/** The issue's target for the front door. */
const README_MAX_LINES = 250;

interface Page {
  /** Repository-relative path. */
  path: string;
  md: MarkdownPage;
}

function page(path: string, source = readFileSync(join(root, path), 'utf8')): Page {
  return { path, md: parseMarkdown(source) };
}

function documentationPages(): Page[] {
  const docs = readdirSync(join(root, 'docs')).filter((f) => f.endsWith('.md')).sort();
  return [page('README.md'), ...docs.map((f) => page(`docs/${f}`))];
}

// ---------------------------------------------------------------------------------------------------------------------
// Links and anchors

function anchorsOf(path: string, pages: readonly Page[]): Set<string> {
  const known = pages.find((p) => p.path === path);
  return headingAnchors((known ?? page(path)).md.headings);
}

/** Broken relative links and anchors of `pages`, one line each. */
function linkProblems(pages: readonly Page[]): string[] {
  const problems: string[] = [];
  for (const p of pages) {
    for (const { target, line } of p.md.links) {
      if (/^[a-z][a-z0-9+.-]*:/i.test(target)) continue; // https:, mailto:: not checked (no network)
      const [rawPath = '', anchor] = target.split('#', 2) as [string, string | undefined];
      const path = rawPath === '' ? p.path : relative(root, resolve(root, dirname(p.path), decodeURIComponent(rawPath)));
      const where = `${p.path}:${line}: ${target}`;
      if (rawPath !== '' && (path.startsWith('..') || !existsSync(join(root, path)))) {
        problems.push(`${where}: no such file or folder (${path})`);
        continue;
      }
      if (anchor === undefined) continue;
      if (!path.endsWith('.md')) {
        problems.push(`${where}: an anchor into a file that is not Markdown`);
        continue;
      }
      const anchors = anchorsOf(path, pages);
      if (!anchors.has(decodeURIComponent(anchor).toLowerCase())) {
        problems.push(`${where}: no heading gives #${anchor} in ${path} (anchors there: ${[...anchors].join(', ')})`);
      }
    }
  }
  return problems;
}

// ---------------------------------------------------------------------------------------------------------------------
// Code: scripts, paths, commands

/** Each line of code on a page (code spans, and the lines of fenced blocks), shell comments removed. */
function codeLines(p: Page): { text: string; where: string; span: boolean }[] {
  const out: { text: string; where: string; span: boolean }[] = [];
  for (const s of p.md.spans) out.push({ text: s.text, where: `${p.path}:${s.line}`, span: true });
  for (const b of p.md.blocks) {
    if (!['', 'sh', 'bash', 'shell', 'console'].includes(b.lang)) continue;
    b.text.split('\n').forEach((text, i) => out.push({ text: text.replace(/(^|\s)#.*$/, ''), where: `${p.path}:${b.line + 1 + i}`, span: false }));
  }
  return out;
}

/** Every `npm run X`, `npm start` and `npm test` naming a script package.json lacks. */
function scriptProblems(pages: readonly Page[], scripts: Readonly<Record<string, string>>): string[] {
  const problems: string[] = [];
  for (const p of pages) {
    for (const { text, where } of codeLines(p)) {
      for (const m of text.matchAll(/\bnpm (?:run(?:-script)? ([\w:.-]+)|(start|test)\b)/g)) {
        const name = m[1] ?? m[2]!;
        if (!Object.hasOwn(scripts, name)) problems.push(`${where}: npm script "${name}" is not in package.json (${Object.keys(scripts).join(', ')})`);
      }
    }
  }
  return problems;
}

const REPO_PATH = /^(?:packages|services|test|examples|infra|docs|release)\/[\w.@/-]*[\w/]$/;

/** Repository paths written in code (`packages/…/x.ts`, `examples/quick-sweep.yaml`) that do not exist. */
function pathProblems(pages: readonly Page[]): string[] {
  const problems: string[] = [];
  for (const p of pages) {
    for (const s of p.md.spans.map((x) => ({ text: x.text, where: `${p.path}:${x.line}` })).concat(
      p.md.blocks.map((b) => ({ text: b.text, where: `${p.path}:${b.line}` })),
    )) {
      for (const word of s.text.split(/[\s'"`(),;=]+/)) {
        const path = word.replace(/[.:]+$/, '');
        if (REPO_PATH.test(path) && !existsSync(join(root, path))) problems.push(`${s.where}: ${path} does not exist`);
      }
    }
  }
  return problems;
}

/** One use of the CLI or the demo in the docs. */
interface Invocation {
  program: 'sweepq' | 'demo';
  /** The sub-command (`submit`, …); undefined for the program's own flags (`sweepq --version`, `npm start -- --spec`). */
  command?: string;
  flags: string[];
  where: string;
}

/** The words of an invocation up to the end of its command (a pipe, `;`, `&&`, a closing parenthesis). */
const argsOf = (rest: string): string[] => shellWords(rest.split(/[;&|)]/)[0] ?? '');

const flagsIn = (words: readonly string[]): string[] =>
  words
    .filter((w) => w.startsWith('-') && w !== '-' && w !== '--')
    .flatMap((w) => w.split('/'))
    .filter((w) => /^--?[A-Za-z]/.test(w))
    .map((w) => w.replace(/=.*$/, ''));

function invocations(pages: readonly Page[]): Invocation[] {
  const out: Invocation[] = [];
  for (const p of pages) {
    for (const { text, where, span } of codeLines(p)) {
      const cli = [...text.matchAll(/(?:^|[\s(])(?:npx sweepq|npm run sweepq --)(?=\s|$)(.*)$/g)].map((m) => m[1]!);
      // Prose names commands as `sweepq status`, `sweepq retry --failed`.
      if (span && /^sweepq\s/.test(text)) cli.push(text.slice('sweepq'.length));
      for (const rest of cli) {
        const words = argsOf(rest);
        const first = words[0];
        if (first === undefined) continue;
        if (first.startsWith('-')) out.push({ program: 'sweepq', flags: flagsIn(words), where });
        else if (/^[a-z][a-z-]*$/.test(first)) out.push({ program: 'sweepq', command: first, flags: flagsIn(words.slice(1)), where });
        // Anything else (`…`, `<command>`) is a placeholder, not a command.
      }
      for (const m of text.matchAll(/(?:^|[\s(])npm start\s+--\s(.*)$/g)) out.push({ program: 'demo', flags: flagsIn(argsOf(m[1]!)), where });
    }
  }
  return out;
}

/** The sub-commands and options a program accepts. */
interface Help {
  commands: Set<string>;
  options: Set<string>;
}

type CliProgram = ReturnType<typeof buildProgram>;

/** What commander's help for `cmd` lists (its visible sub-commands and options, `-h`/`--help` included). */
function helpOf(cmd: CliProgram): Help {
  const help = cmd.createHelp();
  return {
    commands: new Set(help.visibleCommands(cmd).map((c) => c.name())),
    options: new Set(help.visibleOptions(cmd).flatMap((o) => [o.short, o.long].filter((f): f is string => f !== undefined))),
  };
}

/** The options listed by a program's `--help` text (for the demo, which parses its arguments when imported). */
function optionsInHelpText(text: string): Set<string> {
  const options = new Set<string>();
  const section = text.split(/\n(?=\S)/).find((s) => s.startsWith('Options:')) ?? '';
  for (const m of section.matchAll(/^ {2}(?:(-[A-Za-z]),\s+)?(--[A-Za-z][\w-]*)/gm)) {
    if (m[1]) options.add(m[1]);
    options.add(m[2]!);
  }
  return options;
}

/** Run a package.json script (`node … file.ts`) with extra arguments and return its stdout. */
async function runScript(script: string, args: readonly string[]): Promise<string> {
  const [node, ...base] = rootPackage.scripts[script]!.split(/\s+/);
  if (node !== 'node') throw new Error(`package.json's "${script}" script does not start with node: ${rootPackage.scripts[script]}`);
  const { stdout } = await execFileAsync(process.execPath, [...base, ...args], { cwd: root, encoding: 'utf8', timeout: 120_000 });
  return stdout;
}

/** What the CLI (its own program, as `sweepq` builds it) and the demo (`npm start -- --help`) accept. */
interface Programs {
  root: Help;
  commands: Map<string, Help>;
  demo: Help;
}

async function readPrograms(): Promise<Programs> {
  const program = buildProgram();
  const commands = new Map(program.commands.map((c) => [c.name(), helpOf(c)] as const));
  const demo = { commands: new Set<string>(), options: optionsInHelpText(await runScript('start', ['--help'])) };
  return { root: helpOf(program), commands, demo };
}

function commandProblems(invs: readonly Invocation[], programs: Programs): string[] {
  const problems: string[] = [];
  for (const inv of invs) {
    let accepted: Help;
    let name: string;
    if (inv.program === 'demo') [accepted, name] = [programs.demo, 'npm start --'];
    else if (inv.command === undefined) [accepted, name] = [programs.root, 'sweepq'];
    else {
      const help = programs.commands.get(inv.command);
      if (!help) {
        problems.push(`${inv.where}: sweepq has no command "${inv.command}" (its commands: ${[...programs.root.commands].join(', ')})`);
        continue;
      }
      [accepted, name] = [help, `sweepq ${inv.command}`];
    }
    for (const flag of inv.flags) {
      if (!accepted.options.has(flag)) problems.push(`${inv.where}: ${name} has no option ${flag} (its options: ${[...accepted.options].join(', ')})`);
    }
  }
  return problems;
}

// ---------------------------------------------------------------------------------------------------------------------
// architecture.md's package table

interface PackageRow {
  floor: number;
  name: string;
  dependsOn: string[];
}

/** The rows of the table whose header starts `| floor | package |`. */
function packageTable(source: string): PackageRow[] {
  const lines = source.split('\n');
  const start = lines.findIndex((l) => /^\| floor \| package \|/.test(l));
  if (start === -1) return [];
  const rows: PackageRow[] = [];
  for (const line of lines.slice(start + 2)) {
    if (!line.startsWith('|')) break;
    const cells = line.split('|').slice(1, -1).map((c) => c.trim());
    const deps = cells[3] ?? '';
    rows.push({
      floor: Number(cells[0]),
      name: (cells[1] ?? '').replace(/`/g, ''),
      dependsOn: deps === 'none' ? [] : deps.split(',').map((d) => `@sweepq/${d.trim()}`).sort(),
    });
  }
  return rows;
}

/** The workspaces' own graph: each `@sweepq/*` package, its `@sweepq/*` dependencies and its floor. */
function workspaceGraph(): PackageRow[] {
  const deps = new Map<string, string[]>();
  for (const pattern of rootPackage.workspaces) {
    const parent = join(root, pattern.replace(/\/\*$/, ''));
    for (const dir of readdirSync(parent)) {
      const file = join(parent, dir, 'package.json');
      if (!existsSync(file)) continue;
      const pkg = JSON.parse(readFileSync(file, 'utf8')) as { name: string; dependencies?: Record<string, string> };
      deps.set(pkg.name, Object.keys(pkg.dependencies ?? {}).filter((d) => d.startsWith('@sweepq/')).sort());
    }
  }
  const floors = new Map<string, number>();
  const floor = (name: string): number => {
    let f = floors.get(name);
    if (f === undefined) {
      const below = (deps.get(name) ?? []).map(floor);
      f = below.length === 0 ? 0 : 1 + Math.max(...below);
      floors.set(name, f);
    }
    return f;
  };
  return [...deps.keys()].map((name) => ({ floor: floor(name), name, dependsOn: deps.get(name)! }));
}

const byName = (rows: readonly PackageRow[]): PackageRow[] => [...rows].sort((a, b) => a.name.localeCompare(b.name));

// ---------------------------------------------------------------------------------------------------------------------

describe('README.md and docs/', () => {
  const pages = documentationPages();
  let programs: Programs;

  beforeAll(async () => {
    programs = await readPrograms();
  }, 180_000);

  it(`README is a front door of at most ${README_MAX_LINES} lines`, () => {
    expect(readFileSync(join(root, 'README.md'), 'utf8').trimEnd().split('\n').length).toBeLessThanOrEqual(README_MAX_LINES);
  });

  it('README links every page of docs/ (one click from the front door)', () => {
    const readme = pages.find((p) => p.path === 'README.md')!;
    const linked = new Set(readme.md.links.map((l) => l.target.split('#')[0]));
    expect(pages.filter((p) => p.path.startsWith('docs/') && !linked.has(p.path)).map((p) => p.path)).toEqual([]);
  });

  it('every relative link resolves, and every #anchor names a heading of its page', () => {
    expect(linkProblems(pages)).toEqual([]);
  });

  it('every npm script named in code is in package.json', () => {
    expect(scriptProblems(pages, rootPackage.scripts)).toEqual([]);
  });

  it('every repository path written in code exists', () => {
    expect(pathProblems(pages)).toEqual([]);
  });

  it('every sweepq command and flag, and every npm start flag, is one the program accepts (from its --help)', () => {
    const invs = invocations(pages);
    expect(invs.filter((i) => i.program === 'sweepq').length).toBeGreaterThan(10);
    expect(invs.some((i) => i.program === 'demo')).toBe(true);
    expect(commandProblems(invs, programs)).toEqual([]);
  });

  it("architecture.md's package table is the workspaces' dependency graph, floors included", () => {
    const table = packageTable(readFileSync(join(root, 'docs', 'architecture.md'), 'utf8'));
    expect(byName(table)).toEqual(byName(workspaceGraph()));
  });

  describe('the checks catch what they are for', () => {
    const fake = (source: string): Page[] => [page('docs/checked-example.md', source)];

    it('a link to a missing file, a missing heading, or outside the repository', () => {
      const problems = linkProblems(fake('# Top\n\n[a](spec.md) [b](nope.md) [c](#top) [d](#nowhere) [e](spec.md#the-wb-dialect) [f](spec.md#gone) [g](../../etc/passwd)\n'));
      expect(problems).toHaveLength(4);
      expect(problems.join('\n')).toMatch(/nope\.md[^\n]*no such file[\s\S]*#nowhere[\s\S]*#gone[\s\S]*etc\/passwd/);
    });

    it('a link inside code is not a link; GitHub anchors drop punctuation and number repeats', () => {
      expect(linkProblems(fake('# A `b:c` + d?\n\n## Same\n\n## Same\n\n`[x](nope.md)` [1](#a-bc--d) [2](#same-1)\n'))).toEqual([]);
    });

    it('an unknown npm script, a missing path', () => {
      expect(scriptProblems(fake('`npm run no-such-script`, `npm start`, `npm run bench:train -- --steps 4`\n'), rootPackage.scripts)).toEqual([
        expect.stringMatching(/npm script "no-such-script" is not in package.json/),
      ]);
      expect(pathProblems(fake('```sh\nnode packages/nothing/here.ts examples/quick-sweep.yaml\n```\n'))).toEqual([
        expect.stringMatching(/packages\/nothing\/here\.ts does not exist/),
      ]);
    });

    it('an unknown command, an unknown flag, a flag of the demo it lacks', () => {
      const invs = invocations(fake('```sh\nnpx sweepq submitt x.yaml\nnpm run sweepq -- submit x.yaml --wiat --json   # --not-checked\nnpm start -- --specs x.yaml\n```\n\n`sweepq submit --wait/--nope`\n'));
      const problems = commandProblems(invs, programs);
      expect(problems).toHaveLength(4);
      expect(problems).toEqual(
        expect.arrayContaining([
          expect.stringMatching(/no command "submitt"/),
          expect.stringMatching(/sweepq submit has no option --wiat/),
          expect.stringMatching(/npm start -- has no option --specs/),
          expect.stringMatching(/sweepq submit has no option --nope/),
        ]),
      );
    });
  });
});
