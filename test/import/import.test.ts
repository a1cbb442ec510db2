/**
 * Spreadsheet import end to end (docs/import.md): workbooks and CSV files written by the test are
 * imported with the import client (lib/import) into the whole federation on the embedded engine,
 * through the gateway or straight to the owning subgraph, with a bureau's token. Values are read back
 * through the gateway and compared with the sheet; the statistics fields after an import equal a full
 * `rebuildStats`; a re-import changes nothing; a dry run writes nothing; rejected rows are reported
 * with sheet, row, column and a message in Chinese and English; the ID-card column never reaches the
 * elderly database in clear.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Connection } from 'mongoose';
import { cstDate, now } from '../../lib/clock';
import { runImport, type ImportReport } from '../../lib/import/client';
import { startStack, type RunningStack } from '../../scripts/stack';
import { rebuildStats as rebuildElderly } from '../../subgraphs/elderly/stats';
import { rebuildStats as rebuildGovernance } from '../../subgraphs/governance/stats';
import { rebuildStats as rebuildProperties } from '../../subgraphs/properties/stats';
import { rebuildStats as rebuildRenovation } from '../../subgraphs/renovation/stats';
import { pinClock } from '../helpers/clock';
import { gql } from '../helpers/subgraph';
import { authHeader } from '../helpers/tokens';
import { idCard, writeCsv, writeXlsx } from './helpers';

const pinned = pinClock(now());
const KEY_DIR = mkdtempSync(path.join(os.tmpdir(), 'import-test-keys-'));
const previousKeyDir = process.env.JWT_KEY_DIR;
process.env.JWT_KEY_DIR = KEY_DIR;
const DIR = mkdtempSync(path.join(os.tmpdir(), 'import-test-files-'));

const RUIJIN = 'cm_320104_0001';
const DONGFANG = 'cm_320706_0001';
const YEAR = Number(cstDate(now()).slice(0, 4));

let stack: RunningStack;
const url = (name: string) => stack.subgraphs.find((s) => s.name === name)!.url;
const conn = (name: string): Connection => stack.subgraphs.find((s) => s.name === name)!.conn;
const token = async (role: Parameters<typeof authHeader>[0]) => (await authHeader(role, { subject: `import-test:${role}` })).authorization.replace(/^Bearer /, '');

async function q(target: string, query: string, variables?: Record<string, unknown>, headers?: Record<string, string>) {
  const res = await gql(target, query, variables, headers);
  if (res.errors?.length) throw new Error(`GraphQL errors: ${JSON.stringify(res.errors)}`);
  return res.data as any;
}
const totals = (r: ImportReport) => ({ read: r.read, inserted: r.inserted, updated: r.updated, unchanged: r.unchanged, rejected: r.rejected });
const HAN = /[\u4e00-\u9fa5]/;

/** Runs `npm run import` (scripts/import.ts) as a child process; the stack keeps serving meanwhile. */
function cli(args: string[], importToken: string): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [require.resolve('tsx/cli'), path.join(__dirname, '../../scripts/import.ts'), ...args], { env: { ...process.env, IMPORT_TOKEN: importToken }, encoding: 'utf8' }, (err, stdout, stderr) =>
      resolve({ status: err ? ((err as { code?: number }).code ?? null) : 0, stdout, stderr }),
    );
  });
}

beforeAll(async () => {
  stack = await startStack({ dbPath: null, logLevel: 'silent', seed: 'always' });
}, 120_000);

afterAll(async () => {
  await stack?.stop();
  pinned.restore();
  if (previousKeyDir === undefined) delete process.env.JWT_KEY_DIR;
  else process.env.JWT_KEY_DIR = previousKeyDir;
  rmSync(KEY_DIR, { recursive: true, force: true });
  rmSync(DIR, { recursive: true, force: true });
});

// ------------------------------------------------------------------------------------------------
// 小区 register (properties), through the gateway
// ------------------------------------------------------------------------------------------------

const COMMUNITY_HEADER = ['小区编码', '小区名称', '所在区', '建成年份', '房屋类型', '户数', '管理模式', '物业服务企业', '统一社会信用代码', '合同开始日期', '物业费标准(元/㎡·月)'];
const COMMUNITY_ROWS = [
  ['cm_320104_0201', '导入一村', '秦淮区', 1990, '房改房', 320, '市场化', '导入物业服务有限公司', '91320100MA1IMPT001', new Date(Date.UTC(2024, 0, 1)), 0.8],
  ['cm_320104_0202', '导入二村', '320104', 2010, '商品房', 500, '无物业', null, null, null, null],
  ['cm_320113_0201', '导入三村', '栖霞区', 1995, '拆迁安置房', 210, '公益性托管', '导入物业服务有限公司', '91320100MA1IMPT001', null, null],
];
const DISTRICT_STATS = `query($c: ID!) { district(code: $c) { communityCount oldCommunityCount propertyCoverageRate feeCollection { communities chargeableHouseholds paidHouseholds receivableFen receivedFen } } }`;

describe('小区 register import', () => {
  let file: string;
  beforeAll(async () => {
    file = await writeXlsx(path.join(DIR, 'communities.xlsx'), '小区台账', COMMUNITY_HEADER, COMMUNITY_ROWS);
  });

  test('a clean workbook imported through the gateway inserts every row, and the gateway answers the sheet values', async () => {
    const before = await q(url('properties'), DISTRICT_STATS, { c: '320104' });
    const report = await runImport({ kind: 'communities', file, url: stack.gatewayUrl, token: await token('HOUSING_BUREAU') });
    expect(totals(report)).toEqual({ read: 3, inserted: 3, updated: 0, unchanged: 0, rejected: 0 });
    expect(report.sheet).toBe('小区台账');

    const d = await q(stack.gatewayUrl, `{ a: community(id: "cm_320104_0201") { name builtYear isOldCommunity housingType householdCount managementMode district { code }
      currentContract { company { uscc name } startDate feeStandardYuanPerM2Month } }
      b: community(id: "cm_320113_0201") { name district { code } housingType managementMode currentContract { company { uscc } } } }`);
    expect(d.a).toEqual({
      name: '导入一村', builtYear: 1990, isOldCommunity: true, housingType: 'REFORM_HOUSING', householdCount: 320, managementMode: 'MARKET', district: { code: '320104' },
      // 2024-01-01 in the sheet is that day in China Standard Time.
      currentContract: { company: { uscc: '91320100MA1IMPT001', name: '导入物业服务有限公司' }, startDate: '2023-12-31T16:00:00.000Z', feeStandardYuanPerM2Month: 0.8 },
    });
    expect(d.b).toEqual({ name: '导入三村', district: { code: '320113' }, housingType: 'RESETTLEMENT', managementMode: 'CUSTODIAL_PUBLIC_WELFARE', currentContract: { company: { uscc: '91320100MA1IMPT001' } } });

    // The statistics followed the import, and equal a full rebuild.
    const after = await q(url('properties'), DISTRICT_STATS, { c: '320104' });
    expect(after.district.communityCount).toBe(before.district.communityCount + 2);
    expect(after.district.oldCommunityCount).toBe(before.district.oldCommunityCount + 1);
    await rebuildProperties(conn('properties'));
    expect(await q(url('properties'), DISTRICT_STATS, { c: '320104' })).toEqual(after);
  }, 60_000);

  test('importing the same workbook again changes nothing', async () => {
    const report = await runImport({ kind: 'communities', file, url: url('properties'), token: await token('HOUSING_BUREAU') });
    expect(totals(report)).toEqual({ read: 3, inserted: 0, updated: 0, unchanged: 3, rejected: 0 });
  });

  test('each import call is an audited action with the importing identity and the counts', async () => {
    const log = await q(url('properties'), `{ propertiesAuditLog(subject: "import-test:HOUSING_BUREAU") { subject role reads { type id fields } } }`, undefined, await authHeader('CITY_ADMIN'));
    const imports = log.propertiesAuditLog.filter((r: any) => r.reads.some((x: any) => x.type === 'Import'));
    const record = (fields: string[]) => ({ subject: 'import-test:HOUSING_BUREAU', role: 'HOUSING_BUREAU', reads: [{ type: 'Import', id: 'communities', fields }] });
    expect(imports).toHaveLength(2);
    expect(imports).toEqual(
      expect.arrayContaining([
        record(['read=3', 'inserted=3', 'updated=0', 'unchanged=0', 'rejected=0', 'dryRun=false']),
        record(['read=3', 'inserted=0', 'updated=0', 'unchanged=3', 'rejected=0', 'dryRun=false']),
      ]),
    );
  });

  test('a token without the bureau write scope is refused and nothing is written', async () => {
    await expect(runImport({ kind: 'communities', file, url: url('properties'), token: await token('CIVIL_AFFAIRS') })).rejects.toThrow(/FORBIDDEN/);
  });
});

// ------------------------------------------------------------------------------------------------
// Fee periods (properties): a CSV with every kind of bad cell
// ------------------------------------------------------------------------------------------------

describe('fee-collection import from CSV', () => {
  const header = ['小区编码', '期间', '应收户数', '已缴户数', '应收金额(元)', '实收金额(元)', '公布收缴率', '公布口径', '数据来源'];
  const rows = [
    [RUIJIN, `${YEAR - 1}-06`, 500, 450, '300000', '270000.50', '', '', '区物业办月报'], // 2 clean
    ['', `${YEAR - 1}-06`, 500, 450, '', '', '', '', ''], // 3 missing required 小区编码
    [RUIJIN, `${YEAR - 1}-07`, 'abc', 450, '', '', '', '', ''], // 4 wrong type
    [RUIJIN, `${YEAR - 1}-08`, 500, 450, '', '', '0.9', '按人', ''], // 5 unknown enum
    [RUIJIN, `${YEAR - 1}-09`, 500, 450, '', '', '1.5', '按户', ''], // 6 out of range
    ['cm_320104_9999', `${YEAR - 1}-06`, 500, 450, '', '', '', '', ''], // 7 unknown 小区
    [RUIJIN, `${YEAR - 1}-06`, 400, 300, '', '', '', '', ''], // 8 duplicated key (row 2)
    [RUIJIN, `${YEAR - 1}-10`, 500, 450, '', '', '', '', '联系人电话 138 1234 5678'], // 9 phone number in a public text field
  ];
  let file: string;
  beforeAll(() => {
    file = writeCsv(path.join(DIR, 'fees.csv'), header, rows);
  });

  test('every bad row is rejected with its sheet, row, column and a message in Chinese and English; the good row is written', async () => {
    const report = await runImport({ kind: 'fees', file, url: url('properties'), token: await token('HOUSING_BUREAU') });
    expect(totals(report)).toEqual({ read: 8, inserted: 1, updated: 0, unchanged: 0, rejected: 7 });
    const byRow = Object.fromEntries(report.rejections.map((r) => [r.row, r]));
    expect(Object.keys(byRow).map(Number)).toEqual([3, 4, 5, 6, 7, 8, 9]);
    expect(byRow[3]).toMatchObject({ sheet: 'fees', column: '小区编码', message: 'is required', messageZh: '必填' });
    expect(byRow[4]).toMatchObject({ column: '应收户数', message: 'expected a whole number, got "abc"' });
    expect(byRow[5]).toMatchObject({ column: '公布口径', message: expect.stringMatching(/^unknown value "按人"/) });
    expect(byRow[6]).toMatchObject({ column: '公布收缴率', message: 'must be between 0 and 1', messageZh: '须在 0 到 1 之间' });
    expect(byRow[7]).toMatchObject({ column: '小区编码', message: 'no 小区 with id "cm_320104_9999"' });
    expect(byRow[8]).toMatchObject({ column: '期间', message: expect.stringMatching(/^duplicated key .*also on row 2$/) });
    expect(byRow[9]).toMatchObject({ column: '数据来源', message: expect.stringMatching(/phone number/), messageZh: expect.stringMatching(/电话号码/) });
    for (const r of report.rejections) expect(r.messageZh).toMatch(HAN);

    const fee = await q(stack.gatewayUrl, `query($p: String) { community(id: "${RUIJIN}") { feeCollection(period: $p) { period chargeableHouseholds paidHouseholds receivableFen receivedFen source } } }`, { p: `${YEAR - 1}-06` });
    expect(fee.community.feeCollection).toEqual({ period: `${YEAR - 1}-06`, chargeableHouseholds: 500, paidHouseholds: 450, receivableFen: 30000000, receivedFen: 27000050, source: '区物业办月报' });
    // Only the good row's period exists: the rejected rows wrote nothing.
    const hist = await q(url('properties'), `{ community(id: "${RUIJIN}") { feeHistory(last: 50) { period } } }`);
    const periods = hist.community.feeHistory.map((f: any) => f.period).filter((p: string) => p.startsWith(String(YEAR - 1)));
    expect(periods).toEqual([`${YEAR - 1}-06`]);
  });

  test('the command line refuses to run without a token (exit 2)', async () => {
    const run = await cli(['--subgraph', 'properties', '--kind', 'fees', file, '--dry-run', '--url', url('properties')], '');
    expect(run.status).toBe(2);
    expect(run.stderr).toMatch(/token with properties:write is required/);
  }, 60_000);

  test('the command line with a token reports the rejected rows and exits 1', async () => {
    const run = await cli(['--subgraph', 'properties', '--kind', 'fees', file, '--dry-run', '--url', url('properties')], await token('HOUSING_BUREAU'));
    expect({ status: run.status, stderr: run.stderr }).toEqual({ status: 1, stderr: '' });
    expect(run.stdout).toMatch(/拒绝 rejected 7/);
    expect(run.stdout).toMatch(/fees\t9\t数据来源 \(source\)\t疑似包含电话号码/);
  }, 60_000);
});

// ------------------------------------------------------------------------------------------------
// Elderly register: dry run, import, re-import, update, and the ID card never stored in clear
// ------------------------------------------------------------------------------------------------

describe('elderly register import', () => {
  const ID1 = idCard('1940-03-05', 11, '320706');
  const ID2 = idCard('1952-11-20', 22, '320706');
  const ID3 = idCard('1948-07-01', 34, '320706');
  const header = ['身份证号', '小区编码', '姓名', '联系电话', '居住状况', '困难类型', '同意日期', '紧急联系人', '紧急联系人关系', '紧急联系人电话'];
  const consent = new Date(Date.UTC(YEAR - 1, 2, 1));
  const rows = [
    [ID1, DONGFANG, '王一', '13900000001', '独居', '低保', consent, '王小一', '子女', '13700000001'],
    [ID2, DONGFANG, '王二', '13900000002', '空巢', '', consent, null, null, null],
    [ID3, DONGFANG, '王三', '', '与家人同住', '', consent, null, null, null],
  ];
  let file: string;
  const counts = async () => {
    const db = conn('elderly').db!;
    const out: Record<string, number> = {};
    for (const c of await db.listCollections().toArray()) out[c.name] = await db.collection(c.name).countDocuments();
    return out;
  };
  const STATS = `{ _entities(representations: [{ __typename: "Community", id: "${DONGFANG}" }]) { ... on Community { elderlyStats { registered livingAlone difficulty highRisk keyRisk visitedLast30d monthlyVisitRate } } } }`;

  beforeAll(async () => {
    file = await writeXlsx(path.join(DIR, 'elderly.xlsx'), '老年人台账', header, rows);
  });

  test('a dry run reports what would change and writes nothing', async () => {
    const before = await counts();
    const report = await runImport({ kind: 'elderly', file, url: url('elderly'), token: await token('CIVIL_AFFAIRS'), dryRun: true });
    expect(totals(report)).toEqual({ read: 3, inserted: 3, updated: 0, unchanged: 0, rejected: 0 });
    expect(report.dryRun).toBe(true);
    const after = await counts();
    // The only write of a dry run is its audit record.
    expect({ ...after, audit_log: 0 }).toEqual({ ...before, audit_log: 0 });
    expect(after.audit_log).toBe((before.audit_log ?? 0) + 1);
  });

  test('a clean workbook registers every resident, the gateway answers the sheet values, and the statistics equal a rebuild', async () => {
    const admin = await authHeader('CITY_ADMIN');
    const before = await q(url('elderly'), STATS, undefined, admin);
    const report = await runImport({ kind: 'elderly', file, url: url('elderly'), token: await token('CIVIL_AFFAIRS') });
    expect(totals(report)).toEqual({ read: 3, inserted: 3, updated: 0, unchanged: 0, rejected: 0 });

    const list = await q(stack.gatewayUrl, `{ elderlyResidents(filter: { communityId: "${DONGFANG}" }, first: 100) { edges { node { name phone ageBand livingArrangement emergencyContact { name relation phone } } } } }`, undefined, await authHeader('CIVIL_AFFAIRS'));
    const byName = Object.fromEntries(list.elderlyResidents.edges.map((e: any) => [e.node.name, e.node]));
    expect(byName['王一']).toEqual({ name: '王一', phone: '13900000001', ageBand: expect.any(String), livingArrangement: 'LIVING_ALONE', emergencyContact: { name: '王小一', relation: '子女', phone: '13700000001' } });
    expect(byName['王二']).toMatchObject({ phone: '13900000002', livingArrangement: 'EMPTY_NEST', emergencyContact: null });
    expect(byName['王三']).toMatchObject({ phone: null, livingArrangement: 'WITH_FAMILY' });
    // The age band comes from the birth date in the ID-card number.
    const age = (birth: string) => YEAR - Number(birth.slice(0, 4)) - (cstDate(now()).slice(5) < birth.slice(5) ? 1 : 0);
    const band = (a: number) => (a >= 90 ? 'AGE_90_PLUS' : a >= 80 ? 'AGE_80_89' : a >= 70 ? 'AGE_70_79' : 'AGE_60_69');
    expect(byName['王一'].ageBand).toBe(band(age('1940-03-05')));
    expect(byName['王二'].ageBand).toBe(band(age('1952-11-20')));

    const after = await q(url('elderly'), STATS, undefined, admin);
    expect(after._entities[0].elderlyStats.registered).toBe((before._entities[0].elderlyStats.registered ?? 0) + 3);
    await rebuildElderly(conn('elderly'));
    expect(await q(url('elderly'), STATS, undefined, admin)).toEqual(after);
  }, 60_000);

  test('importing the same workbook again changes nothing; a changed row is updated', async () => {
    const again = await runImport({ kind: 'elderly', file, url: url('elderly'), token: await token('CIVIL_AFFAIRS') });
    expect(totals(again)).toEqual({ read: 3, inserted: 0, updated: 0, unchanged: 3, rejected: 0 });
    const changed = await writeXlsx(path.join(DIR, 'elderly-2.xlsx'), '老年人台账', header, [[ID2, DONGFANG, '王二', '13900000002', '独居', '', consent, null, null, null]]);
    const update = await runImport({ kind: 'elderly', file: changed, url: url('elderly'), token: await token('CIVIL_AFFAIRS') });
    expect(totals(update)).toEqual({ read: 1, inserted: 0, updated: 1, unchanged: 0, rejected: 0 });
  }, 60_000);

  test('bad ID-card cells are rejected without echoing the number', async () => {
    const bad = await writeXlsx(path.join(DIR, 'elderly-bad.xlsx'), '老年人台账', header, [
      [ID1.slice(0, 17) + (ID1[17] === '0' ? '1' : '0'), DONGFANG, '错一', '', '独居', '', consent, null, null, null], // check digit
      [Number(ID2.slice(0, 17)), DONGFANG, '错二', '', '独居', '', consent, null, null, null], // a number cell (digits lost)
      [idCard('1990-01-01', 1), DONGFANG, '错三', '', '独居', '', consent, null, null, null], // under 60
      [ID3, 'cm_320706_9999', '王三', '', '与家人同住', '', consent, null, null, null], // unknown 小区
      [idCard('1945-01-01', 5, '320706'), DONGFANG, '错四', '', '独居', '', consent, null, null, null],
      [idCard('1945-01-01', 5, '320706'), DONGFANG, '错四', '', '独居', '', consent, null, null, null], // duplicated
    ]);
    const report = await runImport({ kind: 'elderly', file: bad, url: url('elderly'), token: await token('CIVIL_AFFAIRS'), dryRun: true });
    expect(totals(report)).toMatchObject({ read: 6, rejected: 5 });
    expect(report.rejections.map((r) => [r.row, r.column])).toEqual([[2, '身份证号'], [3, '身份证号'], [4, '身份证号'], [5, '小区编码'], [7, '身份证号']]);
    expect(JSON.stringify(report)).not.toMatch(/\d{17}[\dX]/);
  });

  test('the ID-card numbers never reach the elderly database in clear', async () => {
    const db = conn('elderly').db!;
    const clear = [ID1, ID2, ID3, ID1.slice(0, 17)];
    let docs = 0;
    for (const c of await db.listCollections().toArray()) {
      for (const d of await db.collection(c.name).find({}).toArray()) {
        docs += 1;
        const text = JSON.stringify(d);
        for (const n of clear) expect(text.includes(n)).toBe(false);
      }
    }
    expect(docs).toBeGreaterThan(10);
    // What is stored instead: the keyed hash.
    const stored = await db.collection('elderly_residents').find({ name: { $in: ['王一', '王二', '王三'] } }).toArray();
    expect(stored).toHaveLength(3);
    for (const r of stored) expect(r.idCardHash).toMatch(/^[0-9a-f]{64}$/);
  });
});

// ------------------------------------------------------------------------------------------------
// Committees (governance) and renovation projects
// ------------------------------------------------------------------------------------------------

describe('committee roster import', () => {
  const header = ['小区编码', '组织类型', '届次', '任期开始', '任期结束', '状态', '姓名', '联系电话', '职务', '身份类别', '是否党员'];
  const start = new Date(Date.UTC(YEAR - 1, 5, 1));
  const end = new Date(Date.UTC(YEAR + 4, 4, 31));
  const rows = [
    [RUIJIN, '业主委员会', 7, start, end, '在任', '赵主任', '13600000001', '主任', '业主', '是'],
    [RUIJIN, '业主委员会', 7, start, end, '在任', '钱委员', '13600000002', '委员', '业主', '否'],
  ];
  const STATS = `{ _entities(representations: [{ __typename: "City", code: "320100" }]) { ... on City { committeeStats { communities withOwnersCommittee withPMC none active expiredTerms disclosedLast12m avgPartyMemberRatio } } } }`;

  test('a roster creates the committee with its members (personal data only in members), re-import changes nothing, statistics equal a rebuild', async () => {
    const file = await writeXlsx(path.join(DIR, 'committees.xlsx'), '业委会名册', header, rows);
    const admin = await authHeader('CITY_ADMIN');
    const report = await runImport({ kind: 'committees', file, url: url('governance'), token: await token('HOUSING_BUREAU') });
    expect(totals(report)).toEqual({ read: 2, inserted: 2, updated: 0, unchanged: 0, rejected: 0 });
    const id = `cmt_${RUIJIN}_oc_7`;
    const c = await q(stack.gatewayUrl, `{ committee(id: "${id}") { type termNo status termStart roles { role affiliation } partyMemberRatio members { name phone role affiliation isPartyMember } } }`, undefined, admin);
    expect(c.committee).toEqual({
      type: 'OWNERS_COMMITTEE', termNo: 7, status: 'ACTIVE', termStart: new Date(start.getTime() - 8 * 3600_000).toISOString(),
      roles: [{ role: 'DIRECTOR', affiliation: 'OWNER' }, { role: 'MEMBER', affiliation: 'OWNER' }], partyMemberRatio: 0.5,
      members: [
        { name: '赵主任', phone: '13600000001', role: 'DIRECTOR', affiliation: 'OWNER', isPartyMember: true },
        { name: '钱委员', phone: '13600000002', role: 'MEMBER', affiliation: 'OWNER', isPartyMember: false },
      ],
    });
    const after = await q(url('governance'), STATS, undefined, admin);
    await rebuildGovernance(conn('governance'));
    expect(await q(url('governance'), STATS, undefined, admin)).toEqual(after);
    const again = await runImport({ kind: 'committees', file, url: url('governance'), token: await token('HOUSING_BUREAU') });
    expect(totals(again)).toEqual({ read: 2, inserted: 0, updated: 0, unchanged: 2, rejected: 0 });
  }, 60_000);
});

describe('renovation project import', () => {
  const header = ['项目编号', '项目名称', '所在区', '小区编码', '计划年度', '实施主体', '户数', '总投资(万元)', '改造内容', '中央补助(万元)', '地方财政(万元)'];
  const STATS = `{ renovationStats(cityCode: "320100") { projects projectsWithBudget households budget { fen } byFundingSource { type committed { fen } confirmed { fen } } byItemClass { class items cost { fen } } byStatus { status count } } }`;

  test('a project list creates each project with items and funding, re-import changes nothing, statistics equal a rebuild', async () => {
    const file = await writeXlsx(path.join(DIR, 'projects.xlsx'), '改造项目', header, [
      ['QH-IMPORT-001', '导入一村改造', '320104', `${RUIJIN}、cm_320104_0201`, YEAR, '政府', 880, 1200, '基础类:PIPELINE:1200:m:300; 完善类:ELEVATOR:2:部:160', 500, 700],
    ]);
    const report = await runImport({ kind: 'projects', file, url: url('renovation'), token: await token('RENOVATION_OFFICE') });
    expect(totals(report)).toEqual({ read: 1, inserted: 1, updated: 0, unchanged: 0, rejected: 0 });
    const list = await q(stack.gatewayUrl, `{ renovationProjects(cityCode: "320100") { name planYear budget { fen } items { class itemType quantity unit cost { fen } } fundingSources { type amount { fen } } communities { id } } }`);
    {
      const p = list.renovationProjects.find((n: any) => n.name === '导入一村改造');
      expect(p).toMatchObject({
        planYear: YEAR, budget: { fen: 1_200_000_000 },
        items: [{ class: 'BASIC', itemType: 'PIPELINE', quantity: 1200, unit: 'm', cost: { fen: 300_000_000 } }, { class: 'IMPROVEMENT', itemType: 'ELEVATOR', quantity: 2, unit: '部', cost: { fen: 160_000_000 } }],
        communities: [{ id: RUIJIN }, { id: 'cm_320104_0201' }],
      });
      expect([...p.fundingSources].sort((a: any, b: any) => a.type.localeCompare(b.type))).toEqual([{ type: 'CENTRAL_SUBSIDY', amount: { fen: 500_000_000 } }, { type: 'LOCAL_FISCAL', amount: { fen: 700_000_000 } }]);
    }
    const after = await q(url('renovation'), STATS);
    await rebuildRenovation(conn('renovation'));
    expect(await q(url('renovation'), STATS)).toEqual(after);
    const again = await runImport({ kind: 'projects', file, url: url('renovation'), token: await token('RENOVATION_OFFICE') });
    expect(totals(again)).toEqual({ read: 1, inserted: 0, updated: 0, unchanged: 1, rejected: 0 });
  }, 60_000);
});

// ------------------------------------------------------------------------------------------------
// Buildings of the 小区 register (properties)
// ------------------------------------------------------------------------------------------------

describe('building import (楼栋)', () => {
  const header = ['小区编码', '楼栋号', '层数', '单元数', '是否有电梯', '建成年份'];
  const rows = [
    [RUIJIN, '1栋', 6, 3, '否', 1985], // 2 clean
    [RUIJIN, ' 12号楼 ', 18, 2, '是', 2005], // 3 clean (spaces trimmed)
    ['cm_320104_9999', '1栋', 6, 3, '否', 1985], // 4 unknown 小区
    [RUIJIN, '1栋', 7, 3, '否', 1985], // 5 duplicated key (row 2)
    [RUIJIN, '3栋', 300, 3, '否', 1985], // 6 out of range
    [RUIJIN, '4栋', 'six', 3, '否', 1985], // 7 wrong type
    [RUIJIN, '5栋2单元201室', 6, 3, '否', 1985], // 8 a door number in a public text field
    [RUIJIN, null, 6, 3, '否', 1985], // 9 missing required
    [RUIJIN, '6栋', 6, 3, '也许', 1985], // 10 not a yes/no
  ];
  const BUILDINGS = `{ community(id: "${RUIJIN}") { buildings { id number floors unitCount hasElevator builtYear community { id } } } }`;
  let file: string;
  beforeAll(async () => {
    file = await writeXlsx(path.join(DIR, 'buildings.xlsx'), '楼栋', header, rows);
  });

  test('a dry run reports the verdicts and writes no building', async () => {
    const report = await runImport({ kind: 'buildings', file, url: url('properties'), token: await token('HOUSING_BUREAU'), dryRun: true });
    expect(totals(report)).toEqual({ read: 9, inserted: 2, updated: 0, unchanged: 0, rejected: 7 });
    expect((await q(stack.gatewayUrl, BUILDINGS)).community.buildings).toEqual([]);
  });

  test('the good rows are written and read back through the gateway; every bad row is rejected with its column', async () => {
    const report = await runImport({ kind: 'buildings', file, url: stack.gatewayUrl, token: await token('HOUSING_BUREAU') });
    expect(totals(report)).toEqual({ read: 9, inserted: 2, updated: 0, unchanged: 0, rejected: 7 });
    const byRow = Object.fromEntries(report.rejections.map((r) => [r.row, r]));
    expect(Object.keys(byRow).map(Number)).toEqual([4, 5, 6, 7, 8, 9, 10]);
    expect(byRow[4]).toMatchObject({ sheet: '楼栋', column: '小区编码', message: expect.stringMatching(/^no 小区 with id "cm_320104_9999"/) });
    expect(byRow[5]).toMatchObject({ column: '楼栋号', message: expect.stringMatching(/^duplicated key .*also on row 2$/) });
    expect(byRow[6]).toMatchObject({ column: '层数', message: 'must be between 1 and 200' });
    expect(byRow[7]).toMatchObject({ column: '层数', message: 'expected a whole number, got "six"' });
    expect(byRow[8]).toMatchObject({ column: '楼栋号', message: expect.stringMatching(/personal data/) });
    expect(byRow[9]).toMatchObject({ column: '楼栋号', message: 'is required', messageZh: '必填' });
    expect(byRow[10]).toMatchObject({ column: '是否有电梯' });
    for (const r of report.rejections) expect(r.messageZh).toMatch(HAN);

    const got = (await q(stack.gatewayUrl, BUILDINGS)).community.buildings;
    expect(got).toEqual([
      { id: expect.any(String), number: '12号楼', floors: 18, unitCount: 2, hasElevator: true, builtYear: 2005, community: { id: RUIJIN } },
      { id: expect.any(String), number: '1栋', floors: 6, unitCount: 3, hasElevator: false, builtYear: 1985, community: { id: RUIJIN } },
    ]);
  });

  test('importing the same sheet again changes nothing; a changed row updates its building by 小区 + number', async () => {
    const again = await runImport({ kind: 'buildings', file, url: url('properties'), token: await token('HOUSING_BUREAU') });
    expect(totals(again)).toEqual({ read: 9, inserted: 0, updated: 0, unchanged: 2, rejected: 7 });
    const changed = writeCsv(path.join(DIR, 'buildings-2.csv'), ['communityId', 'number', 'floors', 'hasElevator'], [[RUIJIN, '1栋', 7, '是']]);
    const update = await runImport({ kind: 'buildings', file: changed, url: url('properties'), token: await token('HOUSING_BUREAU') });
    expect(totals(update)).toEqual({ read: 1, inserted: 0, updated: 1, unchanged: 0, rejected: 0 });
    const got = (await q(stack.gatewayUrl, BUILDINGS)).community.buildings;
    // Blank columns keep the stored values (unit count and year of 1栋 stay).
    expect(got.find((b: any) => b.number === '1栋')).toMatchObject({ floors: 7, hasElevator: true, unitCount: 3, builtYear: 1985 });
    expect(got).toHaveLength(2);
  });
});

// ------------------------------------------------------------------------------------------------
// Deferred statistics: batches record what they touch, one finish call refreshes it
// ------------------------------------------------------------------------------------------------

describe('deferred statistics', () => {
  const ROW = { row: 2, id: 'cm_320104_0301', name: '延迟一村', district: '320104', builtYear: 1980, housingType: 'REFORM_HOUSING' };
  const pending = (name: string) => conn(name).db!.collection('import_pending_stats').countDocuments();

  test('a deferred 小区 batch whose import never finished leaves the statistics behind; the next import of the file repairs them', async () => {
    const before = await q(url('properties'), DISTRICT_STATS, { c: '320104' });
    const auth = { authorization: `Bearer ${await token('HOUSING_BUREAU')}` };
    // An import that stopped after its first batch: written, recorded as pending, not refreshed.
    const sent = await q(url('properties'), `mutation($rows: [CommunityImportRow!]!) { importCommunities(rows: $rows, deferStatistics: true) { inserted } }`, { rows: [ROW] }, auth);
    expect(sent.importCommunities.inserted).toBe(1);
    expect(await pending('properties')).toBe(1);
    expect((await q(url('properties'), DISTRICT_STATS, { c: '320104' })).district.communityCount).toBe(before.district.communityCount);

    // Running the import again: the row is unchanged, and the finish serves the leftover record.
    const file = await writeXlsx(path.join(DIR, 'deferred.xlsx'), '小区台账', ['小区编码', '小区名称', '所在区', '建成年份', '房屋类型'], [[ROW.id, ROW.name, '秦淮区', 1980, '房改房']]);
    const report = await runImport({ kind: 'communities', file, url: url('properties'), token: await token('HOUSING_BUREAU') });
    expect(totals(report)).toEqual({ read: 1, inserted: 0, updated: 0, unchanged: 1, rejected: 0 });
    expect(report.statistics).toMatchObject({ batches: 1, records: 1 });
    expect(await pending('properties')).toBe(0);
    const after = await q(url('properties'), DISTRICT_STATS, { c: '320104' });
    expect(after.district.communityCount).toBe(before.district.communityCount + 1);
    expect(after.district.oldCommunityCount).toBe(before.district.oldCommunityCount + 1);
    await rebuildProperties(conn('properties'));
    expect(await q(url('properties'), DISTRICT_STATS, { c: '320104' })).toEqual(after);
    // A second finish has nothing left to do.
    const again = await q(url('properties'), `mutation { finishPropertiesImport { batches records areas } }`, undefined, auth);
    expect(again.finishPropertiesImport).toEqual({ batches: 0, records: 0, areas: 0 });
  }, 60_000);

  test('deferred elderly batches change no statistic until finishElderlyImport, which then equals a rebuild', async () => {
    const admin = await authHeader('CITY_ADMIN');
    const auth = { authorization: `Bearer ${await token('CIVIL_AFFAIRS')}` };
    const STATS = `{ _entities(representations: [{ __typename: "Community", id: "${DONGFANG}" }]) { ... on Community { elderlyStats { registered livingAlone difficulty highRisk keyRisk } } } }`;
    const before = await q(url('elderly'), STATS, undefined, admin);
    const consent = new Date(Date.UTC(YEAR - 1, 2, 1)).toISOString();
    const rows = [
      { row: 2, idCardNumber: idCard('1941-01-02', 71, '320706'), communityId: DONGFANG, livingArrangement: 'LIVING_ALONE', consentRecordedAt: consent },
      { row: 3, idCardNumber: idCard('1944-04-05', 72, '320706'), communityId: DONGFANG, livingArrangement: 'EMPTY_NEST', difficultyFlags: ['LOW_INCOME_SUBSISTENCE'], consentRecordedAt: consent },
    ];
    const IMPORT = `mutation($rows: [ElderlyResidentImportRow!]!) { importElderlyResidents(rows: $rows, deferStatistics: true) { inserted rejected } }`;
    expect((await q(url('elderly'), IMPORT, { rows: [rows[0]] }, auth)).importElderlyResidents).toEqual({ inserted: 1, rejected: 0 });
    expect((await q(url('elderly'), IMPORT, { rows: [rows[1]] }, auth)).importElderlyResidents).toEqual({ inserted: 1, rejected: 0 });
    expect(await pending('elderly')).toBe(2);
    expect(await q(url('elderly'), STATS, undefined, admin)).toEqual(before);

    const done = await q(url('elderly'), `mutation { finishElderlyImport { batches records areas } }`, undefined, auth);
    expect(done.finishElderlyImport).toEqual({ batches: 2, records: 2, areas: 1 });
    expect(await pending('elderly')).toBe(0);
    const after = await q(url('elderly'), STATS, undefined, admin);
    expect(after._entities[0].elderlyStats.registered).toBe((before._entities[0].elderlyStats.registered ?? 0) + 2);
    await rebuildElderly(conn('elderly'));
    expect(await q(url('elderly'), STATS, undefined, admin)).toEqual(after);
  }, 60_000);
});
