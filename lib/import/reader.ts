/**
 * Streaming readers of import files: `.xlsx` through exceljs's streaming WorkbookReader (one sheet,
 * rows as they are parsed) and `.csv` through csv-parse (UTF-8, a BOM is skipped). Memory stays
 * bounded by a row, not by the file. Both yield the sheet name, the 1-based row number as a
 * spreadsheet shows it, and the row's cell values (index 0 = column A).
 */
import { createReadStream } from 'node:fs';
import path from 'node:path';
import { StringDecoder } from 'node:string_decoder';
import { parse } from 'csv-parse';
import ExcelJS from 'exceljs';

export interface SheetRow {
  sheet: string;
  rowNumber: number;
  values: unknown[];
}

export class ImportFileError extends Error {}

/** UTF-8 text of a stream of chunks, a character split across two chunks decoded whole. */
async function* utf8(chunks: AsyncIterable<Buffer | string>): AsyncGenerator<string> {
  const decoder = new StringDecoder('utf8');
  for await (const chunk of chunks) {
    const text = typeof chunk === 'string' ? chunk : decoder.write(chunk);
    if (text) yield text;
  }
  const rest = decoder.end();
  if (rest) yield rest;
}

type Entry = NodeJS.ReadableStream & { setEncoding(enc: BufferEncoding): unknown };
type ReaderInternals = {
  _parseWorkbook(entry: Entry): Promise<void>;
  _parseRels(entry: Entry): Promise<void>;
  _parseStyles(entry: Entry): Promise<void>;
  _parseSharedStrings(entry: Entry): AsyncGenerator<unknown>;
  _parseWorksheet(iterator: AsyncIterable<Buffer | string>, sheetNo: string): Generator<unknown>;
  _parseHyperlinks(iterator: AsyncIterable<Buffer | string>, sheetNo: string): Generator<unknown>;
};

/**
 * exceljs 4.4's streaming reader decodes each compressed chunk of a sheet's XML on its own, so a
 * Chinese character that straddles two chunks turns into "��" (exceljs issues #2084, #2316; the
 * fix is not released). This reader hands the XML parser text decoded across chunk boundaries: the
 * zip entries it parses directly get a UTF-8 encoding, and the worksheets (which may come from a
 * temporary file when the shared strings follow them in the archive) are decoded on the way in.
 */
export class Utf8WorkbookReader extends ExcelJS.stream.xlsx.WorkbookReader {
  constructor(input: string, options: Partial<ExcelJS.stream.xlsx.WorkbookStreamReaderOptions>) {
    super(input, options);
    const self = this as unknown as ReaderInternals;
    const base = ExcelJS.stream.xlsx.WorkbookReader.prototype as unknown as ReaderInternals;
    const text = (e: Entry) => (e.setEncoding('utf8'), e);
    self._parseWorkbook = (e) => base._parseWorkbook.call(this, text(e));
    self._parseRels = (e) => base._parseRels.call(this, text(e));
    self._parseStyles = (e) => base._parseStyles.call(this, text(e));
    self._parseSharedStrings = (e) => base._parseSharedStrings.call(this, text(e));
    self._parseWorksheet = (it, n) => base._parseWorksheet.call(this, utf8(it), n);
    self._parseHyperlinks = (it, n) => base._parseHyperlinks.call(this, utf8(it), n);
  }
}

/** Rows of the file's chosen sheet (default: the first), header row included. */
export async function* readRows(file: string, opts: { sheet?: string } = {}): AsyncGenerator<SheetRow> {
  const ext = path.extname(file).toLowerCase();
  if (ext === '.csv') {
    const sheet = path.basename(file, ext);
    const parser = createReadStream(file).pipe(parse({ bom: true, relax_column_count: true, skip_empty_lines: false, trim: false }));
    let n = 0;
    for await (const record of parser as AsyncIterable<string[]>) {
      n += 1;
      yield { sheet, rowNumber: n, values: record };
    }
    return;
  }
  if (ext !== '.xlsx') throw new ImportFileError(`expected a .xlsx or .csv file, got "${path.basename(file)}"`);
  const reader = new Utf8WorkbookReader(file, { worksheets: 'emit', sharedStrings: 'cache', hyperlinks: 'ignore', styles: 'cache', entries: 'emit' });
  const seen: string[] = [];
  let found = false;
  for await (const ws of reader as AsyncIterable<ExcelJS.stream.xlsx.WorksheetReader & { name?: string }>) {
    const name = ws.name ?? `Sheet${seen.length + 1}`;
    seen.push(name);
    const wanted = opts.sheet == null ? !found : name === opts.sheet;
    if (!wanted) {
      // Sheets must be consumed in order; skip this one's rows.
      for await (const _row of ws) void _row;
      continue;
    }
    found = true;
    for await (const row of ws as AsyncIterable<ExcelJS.Row>) {
      const values = Array.isArray(row.values) ? (row.values as unknown[]).slice(1) : [];
      yield { sheet: name, rowNumber: row.number, values };
    }
  }
  if (!found) throw new ImportFileError(opts.sheet ? `no sheet named "${opts.sheet}" (sheets: ${seen.join(', ') || 'none'})` : 'the workbook has no sheet');
}
