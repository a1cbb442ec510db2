/**
 * The import readers (lib/import/reader.ts, cells.ts, kinds.ts, template.ts): Chinese text survives
 * exceljs's streaming reader across compressed-chunk boundaries, a sheet is chosen by name, CSV with
 * a BOM is read, cells are converted by their column's type, and a template carries a note per
 * header and one example row that the reader maps back to every column.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import ExcelJS from 'exceljs';
import { mapHeaders, rowFrom } from '../../lib/import/cells';
import { KINDS, kindOf } from '../../lib/import/kinds';
import { messageZh } from '../../lib/import/messages';
import { readRows, ImportFileError } from '../../lib/import/reader';
import { buildTemplate } from '../../lib/import/template';
import { writeCsv, writeXlsx } from './helpers';

const DIR = mkdtempSync(path.join(os.tmpdir(), 'import-reader-'));
afterAll(() => rmSync(DIR, { recursive: true, force: true }));

/** 3,000 rows of Chinese text: enough compressed chunks for characters to straddle their edges. */
const LINE = (i: number) => `第${i}号小区物业服务企业公益性托管街道兜底应急管理模式市场化运行${'老旧小区改造'.repeat(1 + (i % 5))}`;

describe('Chinese text in a large workbook', () => {
  let file: string;
  beforeAll(async () => {
    file = await writeXlsx(path.join(DIR, 'big.xlsx'), '台账', ['小区名称', '地址'], Array.from({ length: 3000 }, (_, i) => [LINE(i), `南京市秦淮区${LINE(i + 1)}`]));
  });

  test('exceljs on its own garbles some characters at chunk edges (the reason for the reader fix)', async () => {
    let garbled = 0;
    for await (const ws of new ExcelJS.stream.xlsx.WorkbookReader(file, { sharedStrings: 'cache' })) {
      for await (const row of ws) if (JSON.stringify(row.values).includes('\ufffd')) garbled++;
    }
    expect(garbled).toBeGreaterThan(0);
  });

  test('the import reader returns every cell exactly as written', async () => {
    let n = 0;
    for await (const r of readRows(file)) {
      if (r.rowNumber === 1) continue;
      expect(r.values).toEqual([LINE(r.rowNumber - 2), `南京市秦淮区${LINE(r.rowNumber - 1)}`]);
      n++;
    }
    expect(n).toBe(3000);
  });
});

describe('sheets and files', () => {
  test('a sheet is chosen by name; an unknown name lists the sheets', async () => {
    const wb = new ExcelJS.Workbook();
    wb.addWorksheet('说明').addRow(['这是说明']);
    wb.addWorksheet('小区台账').addRow(['小区编码']);
    const file = path.join(DIR, 'two.xlsx');
    await wb.xlsx.writeFile(file);
    const rows: unknown[] = [];
    for await (const r of readRows(file, { sheet: '小区台账' })) rows.push([r.sheet, r.rowNumber, r.values]);
    expect(rows).toEqual([['小区台账', 1, ['小区编码']]]);
    const first: unknown[] = [];
    for await (const r of readRows(file)) first.push(r.sheet);
    expect(first).toEqual(['说明']);
    await expect(async () => {
      for await (const _r of readRows(file, { sheet: '没有' })) void _r;
    }).rejects.toThrow('no sheet named "没有" (sheets: 说明, 小区台账)');
  });

  test('a CSV saved by Excel (UTF-8 with a BOM, quoted commas) is read as written', async () => {
    const file = writeCsv(path.join(DIR, 'fees.csv'), ['小区编码', '数据来源'], [['cm_320104_0001', '区物业办,月报']]);
    const rows: unknown[] = [];
    for await (const r of readRows(file)) rows.push(r.values);
    expect(rows).toEqual([['小区编码', '数据来源'], ['cm_320104_0001', '区物业办,月报']]);
  });

  test('another file type is refused', async () => {
    await expect(async () => {
      for await (const _r of readRows(path.join(DIR, 'x.xls'))) void _r;
    }).rejects.toThrow(ImportFileError);
  });
});

describe('cells by column type', () => {
  const kind = kindOf('fees');
  const { byIndex } = mapHeaders(kind, ['小区编码', '期间', '应收户数', '应收金额(元)', '公布收缴率', '公布口径', '是否下限']);

  test('Chinese labels, yuan, percentages, periods written as dates and 是/否 become the mutation row', () => {
    const { row, problems } = rowFrom(kind, byIndex, ['cm_320104_0001', new Date(Date.UTC(2024, 5, 1)), '1,200', 3000.55, '95%', '按户', '是'], 7);
    expect(problems).toEqual([]);
    expect(row).toEqual({ row: 7, communityId: 'cm_320104_0001', period: '2024-06', chargeableHouseholds: 1200, receivableFen: 300055, reportedRate: 0.95, reportedRateBasis: 'HOUSEHOLD', reportedRateIsLowerBound: true });
  });

  test('an unreadable cell is a problem of its column in both languages; an unknown label is passed on for the server to refuse', () => {
    const { row, problems } = rowFrom(kind, byIndex, ['cm_320104_0001', '2024', '十二', null, null, '按人', '也许'], 8);
    expect(problems.map((p) => [p.column.zh, p.message, p.messageZh])).toEqual([
      ['应收户数', 'expected a whole number, got "十二"', '应为整数，实际为 "十二"'],
      ['是否下限', 'expected 是 or 否 (yes/no), got "也许"', '应为 是 或 否，实际为 "也许"'],
    ]);
    expect(row.reportedRateBasis).toBe('按人');
  });

  test('an 18-digit number typed as a number has lost digits and is refused', () => {
    const eld = kindOf('elderly');
    const { byIndex: cols } = mapHeaders(eld, ['身份证号']);
    expect(rowFrom(eld, cols, [320706194003051234], 2).problems[0]!.message).toMatch(/lost digits/);
  });

  test('headers are matched in Chinese, by alias and by English field name; required columns left out are named', () => {
    const m = mapHeaders(kindOf('communities'), ['小区编码', 'name', '区县', '备注']);
    expect([...m.byIndex.values()].map((c) => c.field)).toEqual(['id', 'name', 'district']);
    expect(m.unknown).toEqual(['备注']);
    expect(m.missing).toEqual([]);
    expect(mapHeaders(kindOf('communities'), ['小区名称']).missing.map((c) => c.zh)).toEqual(['小区编码', '所在区']);
  });

  test('every validation message of the write paths used in the import has Chinese wording', () => {
    for (const en of ['must be zero or more', 'must be between 0 and 1', 'no 小区 with id "x"', 'unknown value "y"; allowed: A, B', 'is required', 'must not be in the future']) {
      expect(messageZh(en)).not.toMatch(/^输入有误/);
    }
  });
});

describe('templates', () => {
  test.each(Object.keys(KINDS))('the %s template has every header with a note and an example row the reader maps back', async (name) => {
    const kind = kindOf(name);
    const file = path.join(DIR, `${name}.xlsx`);
    await buildTemplate(kind).xlsx.writeFile(file);
    const wb = new ExcelJS.Workbook();
    await wb.xlsx.readFile(file);
    const ws = wb.worksheets[0]!;
    expect(ws.name).toBe(kind.sheet);
    kind.columns.forEach((c, i) => {
      const note = ws.getCell(1, i + 1).note;
      const text = typeof note === 'string' ? note : (note?.texts ?? []).map((t) => t.text).join('');
      expect(text).toContain(`字段 field: ${c.field}`);
      if (c.values) expect(text).toContain(Object.values(c.values)[0]);
      if (c.unit) expect(text).toContain(c.unit);
    });
    const rows: unknown[][] = [];
    for await (const r of readRows(file)) rows.push(r.values);
    expect(rows).toHaveLength(2);
    const h = mapHeaders(kind, rows[0]!);
    expect(h.missing).toEqual([]);
    expect(h.unknown).toEqual([]);
    expect(rowFrom(kind, h.byIndex, rows[1]!, 2).problems).toEqual([]);
  });
});
