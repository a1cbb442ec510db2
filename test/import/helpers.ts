/** Helpers of the import tests: workbooks and CSV files written by the test, and valid ID numbers. */
import { writeFileSync } from 'node:fs';
import ExcelJS from 'exceljs';

const W = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
const C = '10X98765432';
/** A valid 18-character ID-card number (check digit computed) for a birth date and sequence. */
export function idCard(birth: string, seq: number, region = '320104'): string {
  const body = `${region}${birth.replace(/-/g, '')}${String(seq).padStart(3, '0')}`;
  return body + C[W.reduce((a, w, i) => a + w * Number(body[i]), 0) % 11];
}

/** Writes an .xlsx with one sheet: the header row and the rows as given (cell values as is). */
export async function writeXlsx(file: string, sheet: string, header: string[], rows: unknown[][]): Promise<string> {
  const wb = new ExcelJS.Workbook();
  const ws = wb.addWorksheet(sheet);
  ws.addRow(header);
  for (const r of rows) ws.addRow(r);
  await wb.xlsx.writeFile(file);
  return file;
}

/** Writes a UTF-8 CSV (with a BOM, as Excel saves it). */
export function writeCsv(file: string, header: string[], rows: unknown[][]): string {
  const cell = (v: unknown) => {
    const s = v == null ? '' : String(v);
    return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
  };
  writeFileSync(file, '\ufeff' + [header, ...rows].map((r) => r.map(cell).join(',')).join('\n') + '\n');
  return file;
}
