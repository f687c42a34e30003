import { existsSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';

/** Debian's Chromium, which the browser tests drive through playwright-core. */
export const CHROMIUM = '/usr/bin/chromium';

/** Headless, and nothing that talks to the network by itself (a request in a test is then the page's own). */
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** Launch {@link CHROMIUM}; fails with the install command when it is missing. */
export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: apt-get install chromium`);
  return chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
}

/**
 * Canvas text metrics as on a machine with a CJK font: a CJK glyph 1 em wide. ECharts (zrender) takes every text's
 * line height from the width of '国', so its layout depends on whether any installed font has that glyph (4-7 px
 * with Debian's DejaVu/Liberation fonts alone, 12 px for a 12 px font with one): a layout that fits only the narrow
 * case put the parallel plot's axis labels on its colour scale on a fresh machine. Only CJK text is measured
 * differently; everything else keeps the machine's real fonts.
 */
function CJK_FONT_METRICS(): void {
  const proto = (globalThis as unknown as { CanvasRenderingContext2D: { prototype: { font: string; measureText(t: string): { width: number } } } }).CanvasRenderingContext2D.prototype;
  const measure = proto.measureText;
  proto.measureText = function (this: { font: string }, text: string) {
    if (!/[\u3000-\u9fff]/.test(text)) return measure.call(this, text);
    const px = Number(/(\d+(?:\.\d+)?)px/.exec(this.font)?.[1] ?? 12);
    // zrender reads only the width.
    return { width: px * [...text].length };
  };
}

/**
 * Open a local sweepq page (report or index) at a window width, collecting as `problems` every console error or
 * warning, page error and request that is not the file itself, and wait until the page says it is done: `drawn`
 * (the report has drawn every chart) or `ready` (the index, or the report's first screen). `cjkFont` measures text as
 * on a machine with a CJK font ({@link CJK_FONT_METRICS}).
 */
export async function openPage(
  browser: Browser,
  file: string,
  width: number,
  until: 'drawn' | 'ready' = 'drawn',
  opts: { cjkFont?: boolean } = {},
): Promise<{ page: Page; problems: string[] }> {
  const page = await browser.newPage({ viewport: { width, height: 900 } });
  if (opts.cjkFont) await page.addInitScript(CJK_FONT_METRICS);
  const problems: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error' || m.type() === 'warning') problems.push(`console ${m.type()}: ${m.text()}`);
  });
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('request', (r) => {
    if (!r.url().startsWith('file:')) problems.push(`network request: ${r.url()}`);
  });
  await page.goto(pathToFileURL(file).href);
  await page.waitForSelector(`body[data-${until}="true"]`, { timeout: 60_000 });
  return { page, problems };
}
