/**
 * Browser-test helpers: Debian's chromium driven by playwright-core, a recorder of every network
 * request (anything not on 127.0.0.1 is aborted and recorded, so the pages run as if offline) and of
 * console errors, and direct GraphQL calls to compare the screen with.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { loadOperations } from '../../dashboard/operations';

// Browser globals, used only inside page callbacks (the project's typecheck has no DOM library).
declare const document: any;
type HTMLElement = any;

export const SCREENSHOTS = path.join(__dirname, 'screenshots');

/** chromium's path: CHROMIUM_PATH, else the first of chromium / chromium-browser / google-chrome on PATH. */
export function findChromium(): string | null {
  if (process.env.CHROMIUM_PATH && existsSync(process.env.CHROMIUM_PATH)) return process.env.CHROMIUM_PATH;
  for (const name of ['chromium', 'chromium-browser', 'google-chrome']) {
    try {
      const p = execFileSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' }).trim();
      if (p) return p;
    } catch {
      // not on PATH
    }
  }
  return null;
}

/**
 * Whether the browser suites run: always in CI (`.ci/run` installs chromium; a missing one fails
 * there), and locally only when chromium exists (otherwise they are skipped with the reason).
 */
export function browserSuite(): { run: boolean; chromium: string | null; reason?: string } {
  const chromium = findChromium();
  if (chromium) return { run: true, chromium };
  if (process.env.CI) return { run: true, chromium: null, reason: 'CI is set but no chromium was found: `.ci/run` installs it with apt (apt-get install -y chromium)' };
  return { run: false, chromium: null, reason: 'browser tests skipped: no chromium on this machine (apt-get install -y chromium, or set CHROMIUM_PATH)' };
}

export interface Recorder {
  requests: string[];
  offMachine: string[];
  consoleErrors: string[];
}

const LOCAL = /^(https?|wss?):\/\/127\.0\.0\.1(:\d+)?\//;
const INLINE = /^(data|blob|about):/;

export async function launch(chromium: string): Promise<{ browser: Browser; context: BrowserContext; rec: Recorder }> {
  const { chromium: pw } = await import('playwright-core');
  const browser = await pw.launch({
    executablePath: chromium,
    headless: true,
    // CI runs as root, where chromium's sandbox cannot start.
    args: ['--no-sandbox', '--disable-dev-shm-usage', '--no-first-run', '--disable-background-networking', '--disable-component-update'],
  });
  const context = await browser.newContext({ viewport: { width: 1400, height: 1000 }, acceptDownloads: true, locale: 'zh-CN', timezoneId: 'Asia/Shanghai' });
  const rec: Recorder = { requests: [], offMachine: [], consoleErrors: [] };
  await context.route(
    (url) => !LOCAL.test(url.href) && !INLINE.test(url.href),
    async (route) => {
      rec.offMachine.push(route.request().url());
      await route.abort('internetdisconnected');
    },
  );
  context.on('request', (r) => rec.requests.push(r.url()));
  context.on('page', (page) => watch(page, rec));
  return { browser, context, rec };
}

function watch(page: Page, rec: Recorder): void {
  page.on('console', (m) => {
    if (m.type() === 'error') rec.consoleErrors.push(`${page.url()}: ${m.text()}`);
  });
  page.on('pageerror', (e) => rec.consoleErrors.push(`${page.url()}: uncaught ${e.message}`));
}

export function isLocalRequest(url: string): boolean {
  return LOCAL.test(url) || INLINE.test(url);
}

export async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync(SCREENSHOTS, { recursive: true });
  const file = path.join(SCREENSHOTS, `${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  return file;
}

/** Waits until the dashboard says the view has drawn its figures, tables and charts. */
export async function ready(page: Page, view: string): Promise<void> {
  await page.waitForFunction((v) => document.body.dataset.ready === 'true' && document.body.dataset.view === v, view, { timeout: 120_000 });
}

// ---- the GraphQL answers to compare the screen with ----

const BODIES = Object.fromEntries(loadOperations().map((o) => [o.name, o.body]));

export interface Answer {
  data: any;
  errors?: { message: string; path?: (string | number)[]; extensions?: { code?: string } }[];
}

/** Runs one of the dashboard's operations against the gateway, as the dashboard does. */
export async function query(gatewayUrl: string, name: string, variables: Record<string, unknown>, token?: string | null): Promise<Answer> {
  const res = await fetch(gatewayUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify({ query: BODIES[name], operationName: name, variables }),
  });
  return (await res.json()) as Answer;
}

export function getPath(data: unknown, p: (string | number)[]): unknown {
  let v: any = data;
  for (const k of p) {
    if (v === null || v === undefined) return v;
    v = v[k];
  }
  return v;
}

function refused(a: Answer, p: string[]): boolean {
  return (a.errors ?? []).some(
    (e) => (e.extensions?.code === 'FORBIDDEN' || e.extensions?.code === 'UNAUTHENTICATED') && !!e.path && e.path.length <= p.length && e.path.every((k, i) => String(k) === p[i]),
  );
}

const INT = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });
const ONE = new Intl.NumberFormat('en-US', { minimumFractionDigits: 1, maximumFractionDigits: 1 });

/** The text a figure of this kind must show for a present value (numbers only; other kinds are compared by value). */
export function expectedText(v: unknown, kind: string): string | undefined {
  if (typeof v !== 'number') return undefined;
  switch (kind) {
    case 'count':
    case 'people':
      return INT.format(v);
    case 'rate':
      return `${ONE.format(v * 100)}%`;
    case 'percent':
      return `${ONE.format(v)}%`;
    case 'wan':
      return ONE.format(v / 10000);
    case 'score':
      return ONE.format(v);
    default:
      return undefined;
  }
}

export interface ShownFigure {
  path: string;
  kind: string;
  raw: string;
  text: string;
  page?: string;
}

export async function shownFigures(page: Page, scope = 'main'): Promise<ShownFigure[]> {
  return page.$$eval(`${scope} [data-path]`, (els) =>
    els.map((el) => {
      const e = el as HTMLElement;
      return { path: e.dataset.path!, kind: e.dataset.kind!, raw: e.dataset.raw!, text: e.textContent ?? '', page: e.dataset.page };
    }),
  );
}

/**
 * Compares every figure on screen with the answer: a refused path shows 无权限, a suppressed count of
 * people <5, another null —, a number its formatted value; the raw value is the answered one.
 * Returns the mismatches (empty when the screen equals the answer).
 */
export function compareFigures(figs: ShownFigure[], answerOf: (f: ShownFigure) => Answer): string[] {
  const bad: string[] = [];
  for (const f of figs) {
    const a = answerOf(f);
    const p = f.path.split('.');
    let want: { raw: string; text?: string };
    if (refused(a, p)) want = { raw: 'denied', text: '无权限' };
    else {
      const v = getPath(a.data, p);
      if (v === null || v === undefined) want = { raw: 'null', text: f.kind === 'people' ? '<5' : '—' };
      else want = { raw: JSON.stringify(v), text: expectedText(v, f.kind) };
    }
    if (f.raw !== want.raw) bad.push(`${f.path}: shows raw ${f.raw}, the answer is ${want.raw}`);
    else if (want.text !== undefined && f.text !== want.text) bad.push(`${f.path}: shows "${f.text}", expected "${want.text}"`);
  }
  return bad;
}
