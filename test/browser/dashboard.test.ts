/**
 * The dashboard and the offline explorer in a real browser (Debian's chromium via playwright-core),
 * against the real stack with the demo data (the article's four 小区 plus the synthetic city of 400,
 * seed 42), the product clock stopped so the page and the test read the same figures.
 *
 * Every view: it renders; every figure on screen equals the GraphQL answer of the same operation for
 * the same caller; charts are drawn from the trend answers. Access: a caller without personal-data
 * access sees 无权限 where a CIVIL_AFFAIRS token sees names. No console errors; every request is
 * recorded and none leaves 127.0.0.1 (anything else is aborted, as offline). Tables download as
 * .xlsx files that exceljs reads back with the table's rows. Screenshots of the city, district,
 * 小区 and explorer views go to test/browser/screenshots/ (gitignored).
 *
 * Skipped with the reason when no chromium exists (outside CI); `.ci/run` installs it.
 */
import ExcelJS from 'exceljs';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { buildUiIfStale } from '../../dashboard/build';
import { signLocalToken } from '../../lib/auth/token';
import { now } from '../../lib/clock';
import { loadConfig } from '../../lib/config';
import { startStack, type RunningStack } from '../../scripts/stack';
import { pinClock } from '../helpers/clock';
import {
  browserSuite,
  compareFigures,
  getPath,
  isLocalRequest,
  launch,
  query,
  ready,
  screenshot,
  shownFigures,
  type Answer,
  type Recorder,
} from './helpers';

// Browser globals, used only inside page callbacks (the project's typecheck has no DOM library).
declare const document: any;
declare const sessionStorage: any;
type HTMLElement = any;

const suite = browserSuite();
if (!suite.run) console.warn(suite.reason);
const describeBrowser = suite.run ? describe : describe.skip;

const CITY = '320100'; // 南京
const DISTRICT = '320104'; // 秦淮区
const COMMUNITY = 'cm_320116_s00034'; // 景秀湾 (synthetic, 六合区): tickets, elderly register, renovation

// Time limits, not speed targets: each test takes a few seconds on a quiet 2-core machine, but a
// loaded one (the whole suite in parallel) has taken minutes.
jest.setTimeout(300_000);

describeBrowser('dashboard and explorer in chromium', () => {
  const pinned = pinClock(now());
  let stack: RunningStack;
  let base: string;
  let browser: Browser;
  let context: BrowserContext;
  let rec: Recorder;
  let page: Page;

  beforeAll(async () => {
    if (!suite.chromium) throw new Error(suite.reason);
    await buildUiIfStale(() => undefined);
    stack = await startStack({ dbPath: null, demoCity: { communities: 400, seed: 42 }, logLevel: 'warn' });
    base = stack.gatewayUrl.replace(/\/graphql$/, '');
    ({ browser, context, rec } = await launch(suite.chromium));
    page = await context.newPage();
    page.setDefaultTimeout(120_000);
  }, 600_000);

  afterAll(async () => {
    await browser?.close();
    await stack?.stop();
    pinned.restore();
  });

  const token = () => page.evaluate(() => sessionStorage.getItem('city-dashboard.token'));

  async function open(hash: string, view: string): Promise<void> {
    await page.goto(`${base}/dashboard/${hash}`);
    await ready(page, view);
  }

  test('the landing page links the dashboard, the explorer and Apollo Sandbox and says which needs the internet', async () => {
    await page.goto(`${base}/`);
    const items = await page.$$eval('li', (lis) => lis.map((li) => ({ text: li.textContent ?? '', href: li.querySelector('a')?.getAttribute('href') })));
    expect(items.map((i) => i.href)).toEqual(['/dashboard/', '/explorer/', '/graphql']);
    expect(items[0]!.text).toMatch(/works offline/);
    expect(items[1]!.text).toMatch(/works offline/);
    expect(items[2]!.text).toMatch(/needs the internet/);
  });

  test('city overview: the four bureaus\' figures equal the CityOverview answer and the four trend charts are drawn from it', async () => {
    await open(`#/city/${CITY}`, 'city');
    const answer = await query(stack.gatewayUrl, 'CityOverview', { code: CITY });
    const alliances = await query(stack.gatewayUrl, 'CityAlliances', { code: CITY });
    expect(answer.errors).toBeUndefined();
    const figs = await shownFigures(page);
    expect(figs.length).toBeGreaterThanOrEqual(25);
    expect(compareFigures(figs, () => answer)).toEqual([]);
    // Shares computed in the browser: committee, alliance coverage and spend vs budget.
    const derived = await page.$$eval('[data-derived]', (els) => els.map((e) => ({ formula: (e as HTMLElement).dataset.derived!, raw: JSON.parse((e as HTMLElement).dataset.raw!) as number })));
    const c = answer.data.city;
    const want = {
      committee: (c.committeeStats.communities - c.committeeStats.none) / c.committeeStats.communities,
      alliance: alliances.data.allianceCommunities.length / c.communityCount,
      spend: c.renovationStats.spent.amount / c.renovationStats.budget.amount,
    };
    expect(derived.map((d) => d.raw)).toEqual([want.committee, want.alliance, want.spend]);
    expect(want.alliance).toBeGreaterThan(0);
    // Charts: 12 months each, the months and the plotted ticket counts are the answer's.
    const charts = await page.$$eval('.chart', (els) => els.map((e) => ({ id: e.id, rendered: (e as HTMLElement).dataset.rendered, months: JSON.parse((e as HTMLElement).dataset.months!) as string[], series: JSON.parse((e as HTMLElement).dataset.series!) as { data: (number | null)[] }[], canvas: !!e.querySelector('canvas') })));
    expect(charts.map((x) => x.id)).toEqual(['chart-tickets', 'chart-property', 'chart-visits', 'chart-renovation']);
    for (const ch of charts) {
      expect(ch.rendered).toBe('true');
      expect(ch.canvas).toBe(true);
      expect(ch.months).toHaveLength(12);
    }
    expect(charts[0]!.months).toEqual(c.ticketTrend.map((m: { month: string }) => m.month));
    expect(charts[0]!.series[0]!.data).toEqual(c.ticketTrend.map((m: { opened: number }) => m.opened));
    expect(charts[2]!.series[0]!.data).toEqual(c.visitTrend.map((m: { registered: number | null }) => m.registered));
    await screenshot(page, 'city');
  });

  test('district ranking: figures equal the answer, sorting by a column orders the rows, a row links to its district, and the .xlsx has the table\'s rows', async () => {
    await open(`#/ranking/${CITY}`, 'ranking');
    const answer = await query(stack.gatewayUrl, 'DistrictRanking', { code: CITY });
    const districts = answer.data.city.districts as { code: string; name: string; feeCollection: { amountRate: number | null } | null }[];
    expect(districts.length).toBeGreaterThan(5);
    expect(compareFigures(await shownFigures(page), () => answer)).toEqual([]);

    await page.click('#table-ranking th:has-text("物业费收缴率")');
    const names = await page.$$eval('#table-ranking tbody tr td:first-child', (tds) => tds.map((td) => td.textContent));
    const byRate = [...districts].sort((a, b) => (b.feeCollection?.amountRate ?? -1) - (a.feeCollection?.amountRate ?? -1)).map((d) => d.name);
    expect(names).toEqual(byRate);

    const [download] = await Promise.all([page.waitForEvent('download'), page.click('button.xlsx[data-table="ranking"]')]);
    expect(download.suggestedFilename()).toBe(`区排名-${CITY}.xlsx`);
    const wb = new ExcelJS.Workbook();
    await wb.xlsx.readFile((await download.path())!);
    const sheet = wb.worksheets[0]!;
    const headers = await page.$$eval('#table-ranking thead th', (ths) => ths.map((th) => th.textContent));
    const rowValues = (i: number) => (sheet.getRow(i).values as unknown[]).slice(1);
    expect(rowValues(1)).toEqual(headers);
    expect(sheet.actualRowCount).toBe(districts.length + 1);
    for (let i = 0; i < byRate.length; i++) {
      const row = rowValues(i + 2);
      expect(row[0]).toBe(byRate[i]);
      const d = districts.find((x) => x.name === byRate[i])!;
      const rate = d.feeCollection?.amountRate;
      if (typeof rate === 'number') expect(row[4]).toBeCloseTo(rate, 12);
    }

    await page.click(`#table-ranking a[href="#/district/${DISTRICT}"]`);
    await ready(page, 'district');
    expect(page.url()).toContain(`#/district/${DISTRICT}`);
  });

  test('district view: figures equal the DistrictView answer and its 小区 list equals DistrictCommunities', async () => {
    await open(`#/district/${DISTRICT}`, 'district');
    const view = await query(stack.gatewayUrl, 'DistrictView', { code: DISTRICT });
    const list = await query(stack.gatewayUrl, 'DistrictCommunities', { code: DISTRICT, first: 200, after: null });
    const figs = await shownFigures(page);
    expect(compareFigures(figs.filter((f) => f.path.startsWith('district.')), () => view)).toEqual([]);
    expect(compareFigures(figs.filter((f) => f.path.startsWith('communities.')), () => list)).toEqual([]);
    const rows = await page.$$eval('#table-district-communities tbody tr td:first-child', (tds) => tds.map((td) => td.textContent));
    expect(rows).toEqual(list.data.communities.edges.map((e: { node: { name: string } }) => e.node.name));
    expect(rows.length).toBe(list.data.communities.totalCount);
    await screenshot(page, 'district');
  });

  test('小区 profile, anonymous: figures equal the answers, suppressed counts show <5, ticket text and the visit worklist show 无权限', async () => {
    await open(`#/community/${COMMUNITY}`, 'community');
    const profile = await query(stack.gatewayUrl, 'CommunityProfile', { id: COMMUNITY });
    const tickets = await query(stack.gatewayUrl, 'CommunityTickets', { id: COMMUNITY });
    const due = await query(stack.gatewayUrl, 'ElderlyDue', { id: COMMUNITY });
    const figs = await shownFigures(page);
    const answerOf = (f: { path: string }) => (f.path.startsWith('community.tickets') ? tickets : f.path.startsWith('elderlyDue') ? due : profile);
    expect(compareFigures(figs, answerOf)).toEqual([]);
    expect(getPath(profile.data, ['community', 'elderlyStats', 'highRisk'])).toBeNull(); // suppressed for the public
    expect(await page.textContent('[data-path="community.elderlyStats.highRisk"]')).toBe('<5');
    expect(tickets.data.community.tickets.length).toBeGreaterThan(0);
    expect(await page.textContent('[data-path="community.tickets.0.text"]')).toBe('无权限');
    expect(await page.textContent('[data-path="elderlyDue"]')).toBe('无权限');
  });

  test('a pasted HOUSING_BUREAU token sees ticket text but 无权限 on the visit worklist; a CIVIL_AFFAIRS token from the development role picker sees the residents\' names', async () => {
    const housing = await signLocalToken(loadConfig().auth, { role: 'HOUSING_BUREAU' });
    await open('#/signin', 'signin');
    await page.fill('#token-input', housing);
    await page.click('#token-save');
    await ready(page, 'city');
    expect(await page.textContent('#who')).toContain('HOUSING_BUREAU');
    await open(`#/community/${COMMUNITY}`, 'community');
    const t1 = await query(stack.gatewayUrl, 'CommunityTickets', { id: COMMUNITY }, housing);
    const d1 = await query(stack.gatewayUrl, 'ElderlyDue', { id: COMMUNITY }, housing);
    expect(compareFigures(await shownFigures(page, '#table-tickets'), () => t1)).toEqual([]);
    expect(typeof t1.data.community.tickets[0].text).toBe('string');
    expect(await page.textContent('[data-path="community.tickets.0.text"]')).toBe(t1.data.community.tickets[0].text);
    expect(d1.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    expect(await page.textContent('[data-path="elderlyDue"]')).toBe('无权限');

    await open('#/signin', 'signin');
    await page.selectOption('#dev-role', 'CIVIL_AFFAIRS');
    await page.click('#dev-mint');
    await ready(page, 'city');
    expect(await page.textContent('#who')).toContain('CIVIL_AFFAIRS');
    const civil = await token();
    await open(`#/community/${COMMUNITY}`, 'community');
    const d2 = await query(stack.gatewayUrl, 'ElderlyDue', { id: COMMUNITY }, civil);
    const t2 = await query(stack.gatewayUrl, 'CommunityTickets', { id: COMMUNITY }, civil);
    expect(d2.errors).toBeUndefined();
    const names = (d2.data.elderlyDue as { name: string }[]).map((r) => r.name);
    expect(names.length).toBeGreaterThan(0);
    expect(names.every((n) => typeof n === 'string' && n.length > 0)).toBe(true);
    expect(compareFigures(await shownFigures(page, '#table-visits-due'), () => d2)).toEqual([]);
    const shownNames = await page.$$eval('#table-visits-due tbody tr td:first-child', (tds) => tds.map((td) => td.textContent));
    expect(shownNames).toEqual(names);
    // Civil affairs may not read 12345 ticket text: 无权限 there.
    expect(await page.textContent('[data-path="community.tickets.0.text"]')).toBe('无权限');
    expect(compareFigures(await shownFigures(page, '#table-tickets'), () => t2)).toEqual([]);
    await screenshot(page, 'community');

    // The visit worklist downloads with the names shown.
    const [download] = await Promise.all([page.waitForEvent('download'), page.click('button.xlsx[data-table="visits-due"]')]);
    const wb = new ExcelJS.Workbook();
    await wb.xlsx.readFile((await download.path())!);
    const col = wb.worksheets[0]!.getColumn(1).values as unknown[];
    expect(col.slice(2)).toEqual(names);

    await page.click('#sign-out');
    await ready(page, 'community');
    expect(await page.textContent('#who')).toContain('匿名公众');
  });

  test('searching a 小区 by name lists the matches and opens its profile', async () => {
    await open(`#/city/${CITY}`, 'city');
    await page.fill('#search-input', '景秀湾');
    await page.press('#search-input', 'Enter');
    await ready(page, 'search');
    const rows = await page.$$eval('#table-search tbody tr', (trs) => trs.map((tr) => [...tr.querySelectorAll('td')].map((td) => td.textContent)));
    expect(rows.some((r) => r[0] === '景秀湾' && r[2] === COMMUNITY)).toBe(true);
    expect(rows.every((r) => r[0]!.includes('景秀湾'))).toBe(true);
    await page.click(`#table-search a[href="#/community/${COMMUNITY}"]`);
    await ready(page, 'community');
    expect(await page.textContent('.view-title')).toContain('景秀湾');
  });

  test('the English toggle switches the labels and back', async () => {
    await open(`#/city/${CITY}`, 'city');
    await page.click('#lang-toggle');
    await ready(page, 'city');
    expect(await page.textContent('header h1')).toBe('City community dashboard');
    await page.click('#lang-toggle');
    await ready(page, 'city');
    expect(await page.textContent('header h1')).toBe('城市社区治理看板');
  });

  test('the explorer runs a dashboard operation offline with the caller\'s token header and shows the answer and the schema docs', async () => {
    const admin = await signLocalToken(loadConfig().auth, { role: 'CITY_ADMIN' });
    await page.goto(`${base}/dashboard/#/signin`);
    await page.evaluate((t) => sessionStorage.setItem('city-dashboard.token', t), admin);
    await page.goto(`${base}/explorer/`);
    await page.waitForSelector('.graphiql-tab', { timeout: 120_000 });
    const tabs = await page.$$eval('.graphiql-tab .graphiql-tab-button', (els) => els.map((e) => e.textContent?.trim()));
    expect(tabs).toEqual(expect.arrayContaining(['Cities', 'CityOverview', 'CommunityProfile', 'ElderlyDue']));
    await page.click('.graphiql-tab:has-text("Cities") button.graphiql-tab-button');
    await page.click('.graphiql-editor-tools button:has-text("Headers")');
    const headersText = await page.textContent('.graphiql-editor-tool .graphiql-editor:not(.hidden)');
    expect(headersText).toContain(`Bearer ${admin}`);
    const execution = page.waitForResponse((r) => r.url().endsWith('/graphql') && r.request().method() === 'POST' && (r.request().postData() ?? '').includes('query Cities'));
    await page.click('button.graphiql-execute-button');
    const sent = await execution;
    expect(sent.request().headers()['authorization']).toBe(`Bearer ${admin}`);
    await page.waitForFunction(() => document.querySelector('.graphiql-response')?.textContent?.includes('南京市'), null, { timeout: 120_000 });
    const shown = await page.textContent('.graphiql-response');
    const direct = await query(stack.gatewayUrl, 'Cities', {}, admin);
    for (const c of direct.data.cities as { code: string; name: string }[]) {
      expect(shown).toContain(c.code);
      expect(shown).toContain(c.name);
    }
    // Schema docs (from introspection through the same gateway).
    await page.click('button[aria-label="Show Documentation Explorer"]');
    await page.waitForSelector('.graphiql-doc-explorer', { timeout: 120_000 });
    await page.click('.graphiql-doc-explorer a.graphiql-doc-explorer-type-name:has-text("Query")');
    await page.waitForSelector('.graphiql-doc-explorer-field-name:has-text("community")', { timeout: 120_000 });
    await screenshot(page, 'explorer');
    await page.evaluate(() => sessionStorage.clear());
  });

  test('no page logged a console error, and every request stayed on 127.0.0.1', () => {
    expect(rec.consoleErrors).toEqual([]);
    expect(rec.offMachine).toEqual([]);
    expect(rec.requests.length).toBeGreaterThan(20);
    expect(rec.requests.filter((u) => !isLocalRequest(u))).toEqual([]);
  });
});
