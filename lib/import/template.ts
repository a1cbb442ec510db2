/**
 * Import templates: one sheet named for the kind, the header row (Chinese headers as bureaus write
 * them, required ones marked with *), a cell note per header with the field, type, unit, allowed
 * values and what else to know, and one example row.
 */
import ExcelJS from 'exceljs';
import type { Column, ImportKind } from './kinds';

const TYPE_ZH: Record<Column['type'], string> = {
  text: '文本 text', int: '整数 integer', number: '数字 number', date: '日期 date (YYYY-MM-DD)', boolean: '是/否 yes/no', enum: '选项 one of',
  enumList: '多选 several of', list: '列表 list', yuanToFen: '金额 amount (元)', wanToFen: '金额 amount (万元)', rate: '比率 rate (0-1 或 %)',
  period: '期间 period (YYYY 或 YYYY-MM)', items: '改造内容 items',
};

export function headerNote(c: Column): string {
  const lines = [`字段 field: ${c.field}`, `类型 type: ${TYPE_ZH[c.type]}`];
  if (c.unit) lines.push(`单位 unit: ${c.unit}`);
  if (c.values) lines.push(`可选值 allowed: ${Object.entries(c.values).map(([zh, v]) => `${zh}=${v}`).join('，')}`);
  lines.push(c.required ? '必填 required' : '选填 optional');
  if (c.note) lines.push(c.note);
  return lines.join('\n');
}

export function buildTemplate(kind: ImportKind): ExcelJS.Workbook {
  const wb = new ExcelJS.Workbook();
  wb.creator = 'city-community-graph import';
  const ws = wb.addWorksheet(kind.sheet);
  ws.addRow(kind.columns.map((c) => (c.required ? `${c.zh}*` : c.zh)));
  ws.addRow(kind.columns.map((c) => (c.example === '' ? null : c.example)));
  kind.columns.forEach((c, i) => {
    const head = ws.getCell(1, i + 1);
    head.note = headerNote(c);
    head.font = { bold: true };
    ws.getColumn(i + 1).width = Math.max(12, c.zh.length * 2 + 4);
    if (c.type === 'date') ws.getColumn(i + 1).numFmt = 'yyyy-mm-dd';
    // Long numbers (ID cards, USCC) stay text.
    if (c.type === 'text' || c.type === 'list' || c.type === 'items' || c.type === 'period') ws.getColumn(i + 1).numFmt = '@';
  });
  ws.views = [{ state: 'frozen', ySplit: 1 }];
  return wb;
}
