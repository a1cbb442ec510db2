/** City overview, district ranking and district view. */
import { trendChart } from '../charts';
import { figure, h } from '../figures';
import { Answer, run, type Path } from '../graphql';
import { enumLabel, t } from '../i18n';
import { dataTable } from '../table';
import { card, derivedShare, errorBanner, figureList, sortKey, type ViewContext } from './common';

type Base = 'city' | 'district';

/** The four bureaus' headline cards of a city or district answer. */
function headline(a: Answer, base: Base, alliances?: Answer): HTMLElement {
  const p = (...rest: (string | number)[]): Path => [base, ...rest];
  const committees = figureList(a, [
    ['小区', p('committeeStats', 'communities'), 'count'],
    ['业委会', p('committeeStats', 'withOwnersCommittee'), 'count'],
    ['物管会', p('committeeStats', 'withPMC'), 'count'],
  ]);
  committees.append(
    ...derivedShare(
      a,
      '业委会覆盖',
      (x) => {
        const c = x.get(p('committeeStats', 'communities'));
        const n = x.get(p('committeeStats', 'none'));
        return typeof c === 'number' && typeof n === 'number' && !x.refusal(p('committeeStats')) ? c - n : null;
      },
      p('committeeStats', 'communities'),
      `(${p('committeeStats', 'communities').join('.')} - ${p('committeeStats', 'none').join('.')}) / ${p('committeeStats', 'communities').join('.')}`,
    ),
  );
  if (alliances) {
    const list = alliances.refusal(['allianceCommunities']) ? null : alliances.get(['allianceCommunities']);
    committees.append(...derivedShare(a, '党建联盟覆盖', () => (Array.isArray(list) ? list.length : null), p('communityCount'), `count(allianceCommunities) / ${p('communityCount').join('.')}`));
  }
  const tickets = figureList(a, [
    ['受理量', p('ticketStats', 'opened'), 'count'],
    ['办结量', p('ticketStats', 'resolved'), 'count'],
    ['积压', p('ticketStats', 'backlog'), 'count'],
    ['超期', p('ticketStats', 'overdue'), 'count'],
    ['按时办结率', p('ticketStats', 'onTimeRate'), 'rate'],
    ['满意率', p('ticketStats', 'satisfiedRate'), 'rate'],
  ]);
  const byStatus = (a.get(p('renovationStats', 'byStatus')) as { status: string; count: number }[] | null) ?? [];
  const renovation = figureList(a, [
    ['改造项目', p('renovationStats', 'projects'), 'count'],
    ['预算(万元)', p('renovationStats', 'budget', 'amount'), 'wan'],
    ['已支出(万元)', p('renovationStats', 'spent', 'amount'), 'wan'],
    ['延期项目', p('renovationStats', 'lateProjects'), 'count'],
  ]);
  renovation.append(...derivedShare(a, '支出/预算', p('renovationStats', 'spent', 'amount'), p('renovationStats', 'budget', 'amount'), `${p('renovationStats', 'spent', 'amount').join('.')} / ${p('renovationStats', 'budget', 'amount').join('.')}`));
  const statusList = h(
    'ul',
    { class: 'status-list' },
    ...byStatus.map((s, i) => h('li', null, h('span', { class: 'status' }, enumLabel(s.status)), figure(a, p('renovationStats', 'byStatus', i, 'count'), 'count'))),
  );
  return h(
    'div',
    { class: 'bureaus' },
    card(
      t('住房保障和房产局'),
      'bureau properties',
      figureList(a, [
        ['小区数', p('communityCount'), 'count'],
        ['老旧小区', p('oldCommunityCount'), 'count'],
        ['物业覆盖率', p('propertyCoverageRate'), 'rate'],
        ['物业费收缴率', p('feeCollection', 'amountRate'), 'rate'],
        ['户收费率', p('feeCollection', 'householdRate'), 'rate'],
        ['满意度', p('satisfactionAvg'), 'percent'],
      ]),
    ),
    card(t('街道 · 党建 · 12345'), 'bureau governance', committees, h('h4', null, t('12345 工单(近30天)')), tickets),
    card(
      t('民政局'),
      'bureau elderly',
      figureList(a, [
        ['登记老年人', p('elderlyStats', 'registered'), 'people'],
        ['高风险', p('elderlyStats', 'highRisk'), 'people'],
        ['近30天探访', p('elderlyStats', 'visitedLast30d'), 'people'],
        ['月探访率', p('elderlyStats', 'monthlyVisitRate'), 'rate'],
        ['逾期探访', p('elderlyStats', 'overdueVisits'), 'people'],
      ]),
    ),
    card(t('老旧小区改造办'), 'bureau renovation', renovation, h('h4', null, t('按状态')), statusList),
  );
}

const num = (v: unknown): number | null => (typeof v === 'number' ? v : null);
const pct = (v: unknown): number | null => (typeof v === 'number' ? Math.round(v * 1000) / 10 : null);
const wan = (v: unknown): number | null => (typeof v === 'number' ? Math.round(v / 100) / 100 : null);

/** The four 12-month trend charts. */
function trends(a: Answer, base: Base, ctx: ViewContext): HTMLElement {
  const list = <T>(field: string) => ((a.refusal([base, field]) ? [] : (a.get([base, field]) as T[] | null)) ?? []);
  const tk = list<Record<string, unknown>>('ticketTrend');
  const pr = list<Record<string, unknown>>('propertyTrend');
  const vi = list<Record<string, unknown>>('visitTrend');
  const re = list<Record<string, any>>('renovationTrend');
  const charts = [
    trendChart({
      id: 'tickets',
      title: t('12345 工单'),
      months: tk.map((m) => String(m.month)),
      axes: ['件'],
      series: [
        { name: t('受理量'), type: 'bar', data: tk.map((m) => num(m.opened)) },
        { name: t('办结量'), type: 'bar', data: tk.map((m) => num(m.resolved)) },
        { name: t('积压'), type: 'line', data: tk.map((m) => num(m.backlog)) },
      ],
    }),
    trendChart({
      id: 'property',
      title: t('物业费与满意度'),
      months: pr.map((m) => String(m.month)),
      axes: ['%'],
      series: [
        { name: t('物业费收缴率'), type: 'line', data: pr.map((m) => pct(m.amountRate)) },
        { name: t('户收费率'), type: 'line', data: pr.map((m) => pct(m.householdRate)) },
        { name: t('满意度'), type: 'line', data: pr.map((m) => num(m.satisfactionAvg)) },
      ],
    }),
    trendChart({
      id: 'visits',
      title: t('探访关爱'),
      months: vi.map((m) => String(m.month)),
      axes: ['人', '%'],
      series: [
        { name: t('登记老年人'), type: 'bar', data: vi.map((m) => num(m.registered)) },
        { name: t('近30天探访'), type: 'bar', data: vi.map((m) => num(m.visited)) },
        { name: t('月探访率'), type: 'line', data: vi.map((m) => pct(m.visitCoverage)), axis: 1 },
      ],
    }),
    trendChart({
      id: 'renovation',
      title: t('改造支出与预算'),
      months: re.map((m) => String(m.month)),
      axes: ['万元'],
      series: [
        { name: t('已支出(万元)'), type: 'bar', data: re.map((m) => wan(m.spent?.amount)) },
        { name: '累计', type: 'line', data: re.map((m) => wan(m.spentYearToDate?.amount)) },
        { name: t('预算(万元)'), type: 'line', data: re.map((m) => wan(m.budget?.amount)) },
      ],
    }),
  ];
  charts.forEach((c) => ctx.waitFor(c.rendered));
  return h('div', { class: 'trends' }, ...charts.map((c) => c.el));
}

export async function cityView(ctx: ViewContext, code: string): Promise<void> {
  const [a, alliances] = await Promise.all([run('CityOverview', { code }), run('CityAlliances', { code })]);
  const name = (a.get(['city', 'name']) as string | null) ?? code;
  if (!a.get(['city'])) {
    ctx.mount(errorBanner(a) ?? h('p', { class: 'banner' }, `${t('未找到')}: ${code}`));
    return;
  }
  ctx.mount(
    h('h2', { class: 'view-title' }, `${name} · ${t('城市概览')}`, periodNote(a, ['city', 'feeCollection', 'period'])),
    ...[errorBanner(a)].filter((x): x is HTMLElement => !!x),
    headline(a, 'city', alliances),
    h('h2', null, t('12个月趋势')),
  );
  // Charts need their container in the document before drawing.
  const main = document.getElementById('main')!;
  main.append(trends(a, 'city', ctx), h('p', { class: 'more' }, h('a', { href: `#/ranking/${code}` }, `${t('区排名')} →`)));
}

function periodNote(a: Answer, path: Path): HTMLElement | string {
  const period = a.get(path);
  return typeof period === 'string' ? h('small', { class: 'period' }, ` ${period}`) : '';
}

interface DistrictRow {
  index: number;
}

export async function rankingView(ctx: ViewContext, code: string): Promise<void> {
  const a = await run('DistrictRanking', { code });
  const districts = (a.get(['city', 'districts']) as { code: string; name: string }[] | null) ?? [];
  const p = (i: number, ...rest: (string | number)[]): Path => ['city', 'districts', i, ...rest];
  const rows: DistrictRow[] = districts.map((_d, index) => ({ index }));
  const col = (label: string, path: (string | number)[], kind: Parameters<typeof figure>[2]) => ({
    label: t(label),
    numeric: true,
    cell: (r: DistrictRow) => figure(a, p(r.index, ...path), kind),
    sort: (r: DistrictRow) => sortKey(a, p(r.index, ...path)),
  });
  const table = dataTable<DistrictRow>({
    id: 'ranking',
    title: `${(a.get(['city', 'name']) as string | null) ?? code} · ${t('区排名')}`,
    fileName: `区排名-${code}`,
    rows,
    columns: [
      {
        label: t('区'),
        cell: (r) => h('a', { href: `#/district/${districts[r.index]!.code}`, class: 'district-link' }, districts[r.index]!.name),
        sort: (r) => districts[r.index]!.name,
      },
      col('小区数', ['communityCount'], 'count'),
      col('老旧小区', ['oldCommunityCount'], 'count'),
      col('物业覆盖率', ['propertyCoverageRate'], 'rate'),
      col('物业费收缴率', ['feeCollection', 'amountRate'], 'rate'),
      col('满意度', ['satisfactionAvg'], 'percent'),
      col('物管会', ['committeeStats', 'withPMC'], 'count'),
      col('受理量', ['ticketStats', 'opened'], 'count'),
      col('积压', ['ticketStats', 'backlog'], 'count'),
      col('按时办结率', ['ticketStats', 'onTimeRate'], 'rate'),
      col('满意率', ['ticketStats', 'satisfiedRate'], 'rate'),
      col('登记老年人', ['elderlyStats', 'registered'], 'people'),
      col('高风险', ['elderlyStats', 'highRisk'], 'people'),
      col('月探访率', ['elderlyStats', 'monthlyVisitRate'], 'rate'),
      col('逾期探访', ['elderlyStats', 'overdueVisits'], 'people'),
      col('改造项目', ['renovationStats', 'projects'], 'count'),
      col('预算(万元)', ['renovationStats', 'budget', 'amount'], 'wan'),
      col('已支出(万元)', ['renovationStats', 'spent', 'amount'], 'wan'),
    ],
  });
  ctx.mount(...[errorBanner(a)].filter((x): x is HTMLElement => !!x), table);
}

interface CommunityRow {
  id: string;
  name: string;
  index: number;
}

export async function districtView(ctx: ViewContext, code: string): Promise<void> {
  const a = await run('DistrictView', { code });
  if (!a.get(['district'])) {
    ctx.mount(errorBanner(a) ?? h('p', { class: 'banner' }, `${t('未找到')}: ${code}`));
    return;
  }
  const cityCode = a.get(['district', 'city', 'code']) as string;
  ctx.mount(
    h(
      'h2',
      { class: 'view-title' },
      h('a', { href: `#/city/${cityCode}` }, String(a.get(['district', 'city', 'name']))),
      ' › ',
      String(a.get(['district', 'name'])),
      periodNote(a, ['district', 'feeCollection', 'period']),
    ),
    ...[errorBanner(a)].filter((x): x is HTMLElement => !!x),
    headline(a, 'district'),
    h('h2', null, t('12个月趋势')),
  );
  const main = document.getElementById('main')!;
  main.append(trends(a, 'district', ctx));
  // The district's 小区, page by page (200 a page, ordered by id).
  const pages: Answer[] = [];
  let after: string | null = null;
  do {
    const page: Answer = await run('DistrictCommunities', { code, first: 200, after });
    pages.push(page);
    const info = page.get(['communities', 'pageInfo']) as { hasNextPage: boolean; endCursor: string | null } | null;
    after = info?.hasNextPage ? info.endCursor : null;
  } while (after && pages.length < 50);
  const rows: (CommunityRow & { page: number })[] = [];
  pages.forEach((page, pi) => {
    const edges = (page.get(['communities', 'edges']) as { node: { id: string; name: string } }[] | null) ?? [];
    edges.forEach((e, index) => rows.push({ id: e.node.id, name: e.node.name, index, page: pi }));
  });
  const n = (r: { page: number; index: number }, ...rest: (string | number)[]): Path => ['communities', 'edges', r.index, 'node', ...rest];
  const fig = (r: { page: number; index: number }, kind: Parameters<typeof figure>[2], ...rest: string[]) => {
    const el = figure(pages[r.page]!, n(r, ...rest), kind);
    el.dataset.page = String(r.page);
    return el;
  };
  main.append(
    dataTable({
      id: 'district-communities',
      title: `${t('小区名单')} (${rows.length})`,
      fileName: `小区名单-${code}`,
      rows,
      columns: [
        { label: t('小区'), cell: (r) => h('a', { href: `#/community/${r.id}`, class: 'community-link' }, r.name), sort: (r) => r.name },
        { label: t('建成年份'), numeric: true, cell: (r) => fig(r, 'text', 'builtYear'), sort: (r) => sortKey(pages[r.page]!, n(r, 'builtYear')) },
        { label: t('老旧小区'), cell: (r) => fig(r, 'bool', 'isOldCommunity') },
        { label: t('住户数'), numeric: true, cell: (r) => fig(r, 'count', 'householdCount'), sort: (r) => sortKey(pages[r.page]!, n(r, 'householdCount')) },
        { label: t('管理模式'), cell: (r) => fig(r, 'enum', 'managementMode') },
        { label: t('物业费收缴率'), numeric: true, cell: (r) => fig(r, 'rate', 'feeCollection', 'amountRate'), sort: (r) => sortKey(pages[r.page]!, n(r, 'feeCollection', 'amountRate')) },
        { label: t('满意度'), numeric: true, cell: (r) => fig(r, 'percent', 'latestSatisfaction', 'percent'), sort: (r) => sortKey(pages[r.page]!, n(r, 'latestSatisfaction', 'percent')) },
      ],
    }),
  );
}
