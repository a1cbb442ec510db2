/** 小区 profile (the README's CommunityProfile) with its 12345 and visit worklists. */
import { figure, h, DENIED } from '../figures';
import { Answer, run, type Path } from '../graphql';
import { enumLabel, t } from '../i18n';
import { dataTable } from '../table';
import { card, errorBanner, figureList, type ViewContext } from './common';

export async function communityView(ctx: ViewContext, id: string): Promise<void> {
  const [a, tickets, due] = await Promise.all([run('CommunityProfile', { id }), run('CommunityTickets', { id }), run('ElderlyDue', { id })]);
  const c = (...rest: (string | number)[]): Path => ['community', ...rest];
  if (!a.get(['community'])) {
    ctx.mount(errorBanner(a) ?? h('p', { class: 'banner' }, `${t('未找到')}: ${id}`));
    return;
  }
  const district = a.get(c('district')) as { code: string; name: string; city: { code: string; name: string } };
  const list = <T>(ans: Answer, path: Path) => ((ans.refusal(path) ? null : (ans.get(path) as T[] | null)) ?? []);
  const textList = (ans: Answer, path: Path, pick: (x: any) => string) => {
    if (ans.refusal(path)) return figure(ans, path, 'text');
    const items = list<any>(ans, path);
    return h('span', { class: 'list' }, items.length ? items.map(pick).join('、') : t('无'));
  };
  const roles = (a.get(c('committee', 'roles')) as { role: string; affiliation: string }[] | null) ?? [];
  const properties = card(
    t('住房保障和房产局'),
    'bureau properties',
    figureList(a, [
      ['建成年份', c('builtYear'), 'text'],
      ['老旧小区', c('isOldCommunity'), 'bool'],
      ['房屋类型', c('housingType'), 'enum'],
      ['住户数', c('householdCount'), 'count'],
      ['管理模式', c('managementMode'), 'enum'],
      ['物业公司', c('currentContract', 'company', 'name'), 'text'],
      ['物业费收缴率', c('feeCollection', 'amountRate'), 'rate'],
      ['户收费率', c('feeCollection', 'householdRate'), 'rate'],
      ['满意度', c('latestSatisfaction', 'percent'), 'percent'],
    ]),
  );
  const governance = card(
    t('街道 · 党建 · 12345'),
    'bureau governance',
    figureList(a, [
      ['委员会', c('committee', 'type'), 'enum'],
      ['党建联盟', c('partyAlliance', 'model'), 'enum'],
      ['近3月联席会议', c('jointMeetingsLast3m'), 'count'],
      ['受理量', c('ticketStats', 'opened'), 'count'],
      ['办结量', c('ticketStats', 'resolved'), 'count'],
      ['积压', c('ticketStats', 'backlog'), 'count'],
      ['按时办结率', c('ticketStats', 'onTimeRate'), 'rate'],
      ['美好家园评分', c('beautifulHomeScore'), 'score'],
    ]),
    roles.length ? h('p', { class: 'note' }, roles.map((r) => `${enumLabel(r.role)}(${enumLabel(r.affiliation)})`).join(' · ')) : null,
  );
  const elderly = card(
    t('民政局'),
    'bureau elderly',
    figureList(a, [
      ['登记老年人', c('elderlyStats', 'registered'), 'people'],
      ['高风险', c('elderlyStats', 'highRisk'), 'people'],
      ['近30天探访', c('elderlyStats', 'visitedLast30d'), 'people'],
      ['月探访率', c('elderlyStats', 'monthlyVisitRate'), 'rate'],
      ['逾期探访', c('elderlyStats', 'overdueVisits'), 'people'],
    ]),
    h('p', { class: 'note' }, `${t('服务队伍')}: `, textList(a, c('careTeams'), (x) => x.name)),
  );
  const renovation = card(
    t('老旧小区改造办'),
    'bureau renovation',
    figureList(a, [
      ['改造状态', c('renovationSummary', 'status'), 'enum'],
      ['最近改造年份', c('renovationSummary', 'latestProjectYear'), 'text'],
    ]),
    h('p', { class: 'note' }, `${t('设施')}: `, textList(a, c('facilities'), (x) => `${enumLabel(x.type)}${x.condition ? `(${enumLabel(x.condition)})` : ''}`)),
  );
  ctx.mount(
    h(
      'h2',
      { class: 'view-title' },
      h('a', { href: `#/city/${district.city.code}` }, district.city.name),
      ' › ',
      h('a', { href: `#/district/${district.code}` }, district.name),
      ' › ',
      String(a.get(c('name'))),
      a.get(c('synthetic')) ? h('small', { class: 'period' }, ` (${t('合成数据')})`) : '',
    ),
    ...[errorBanner(a)].filter((x): x is HTMLElement => !!x),
    h('div', { class: 'bureaus' }, properties, governance, elderly, renovation),
    ticketTable(tickets, id),
    dueTable(due, id),
  );
}

interface Indexed {
  index: number;
}

function ticketTable(a: Answer, id: string): HTMLElement {
  const base: Path = ['community', 'tickets'];
  if (a.refusal(base) || !Array.isArray(a.get(base))) return refusedCard(t('12345 工单清单'), a, base);
  const rows: Indexed[] = (a.get(base) as unknown[]).map((_x, index) => ({ index }));
  const p = (r: Indexed, f: string): Path => [...base, r.index, f];
  return dataTable<Indexed>({
    id: 'tickets',
    title: t('12345 工单清单'),
    fileName: `工单-${id}`,
    rows,
    columns: [
      { label: t('工单号'), cell: (r) => figure(a, p(r, 'id'), 'text') },
      { label: t('诉求类别'), cell: (r) => figure(a, p(r, 'serviceName'), 'text'), sort: (r) => String(a.get(p(r, 'serviceName'))) },
      { label: t('状态'), cell: (r) => figure(a, p(r, 'status'), 'enum'), sort: (r) => String(a.get(p(r, 'status'))) },
      { label: t('受理时间'), cell: (r) => figure(a, p(r, 'requestedAt'), 'date'), sort: (r) => String(a.get(p(r, 'requestedAt'))) },
      { label: t('办理期限'), cell: (r) => figure(a, p(r, 'dueAt'), 'date'), sort: (r) => String(a.get(p(r, 'dueAt'))) },
      { label: t('超期'), cell: (r) => figure(a, p(r, 'isOverdue'), 'bool') },
      { label: t('诉求内容'), cell: (r) => figure(a, p(r, 'text'), 'text') },
    ],
  });
}

function dueTable(a: Answer, id: string): HTMLElement {
  const base: Path = ['elderlyDue'];
  if (a.refusal(base) || !Array.isArray(a.get(base))) return refusedCard(t('探访清单'), a, base);
  const rows: Indexed[] = (a.get(base) as unknown[]).map((_x, index) => ({ index }));
  const p = (r: Indexed, f: string): Path => [...base, r.index, f];
  return dataTable<Indexed>({
    id: 'visits-due',
    title: t('探访清单'),
    fileName: `探访清单-${id}`,
    rows,
    columns: [
      { label: t('姓名'), cell: (r) => figure(a, p(r, 'name'), 'text'), sort: (r) => (a.refusal(p(r, 'name')) ? null : (a.get(p(r, 'name')) as string | null)) },
      { label: t('年龄段'), cell: (r) => figure(a, p(r, 'ageBand'), 'enum'), sort: (r) => String(a.get(p(r, 'ageBand'))) },
      { label: t('风险等级'), cell: (r) => figure(a, p(r, 'riskTier'), 'enum'), sort: (r) => String(a.get(p(r, 'riskTier'))) },
      { label: t('上次探访'), cell: (r) => figure(a, p(r, 'lastVisitedAt'), 'date'), sort: (r) => (a.get(p(r, 'lastVisitedAt')) as string | null) },
      { label: t('下次探访'), cell: (r) => figure(a, p(r, 'nextVisitDue'), 'date'), sort: (r) => (a.get(p(r, 'nextVisitDue')) as string | null) },
    ],
  });
}

/** A worklist the caller may not read at all: the whole card says 无权限, with the reason. */
function refusedCard(title: string, a: Answer, path: Path): HTMLElement {
  const banner = errorBanner(a);
  const cell = a.refusal(path) ? figure(a, path, 'text') : h('span', { class: 'fig fig-empty' }, '—');
  return h('section', { class: 'card table-card refused', 'data-worklist': path.join('.') }, h('h3', null, title), h('p', null, cell), banner, h('p', { class: 'note' }, a.refusal(path)?.message ?? ''));
}

export { DENIED };
