/**
 * Tables: sortable by any column (click the header), every table downloadable as .xlsx, written in
 * the browser with write-excel-file. The spreadsheet holds what the table shows, in its current
 * order: numbers as numbers, 无权限 and <5 as text.
 */
import writeExcelFile from 'write-excel-file/browser';
import { h } from './figures';
import { t } from './i18n';

export interface Column<R> {
  label: string;
  /** The cell (a figure span, a link or text). */
  cell: (row: R, index: number) => Node | string;
  /** Sort key; columns without one are not sortable. */
  sort?: (row: R) => number | string | null | undefined;
  numeric?: boolean;
}

export interface TableSpec<R> {
  id: string;
  title: string;
  columns: Column<R>[];
  rows: R[];
  /** File name without extension. */
  fileName: string;
  note?: string;
}

export function dataTable<R>(spec: TableSpec<R>): HTMLElement {
  let sortCol = -1;
  let desc = false;
  const tbody = h('tbody');
  const headCells = spec.columns.map((c, i) => {
    const th = h('th', { scope: 'col', class: c.numeric ? 'num' : undefined }, c.label);
    if (c.sort) {
      th.classList.add('sortable');
      th.tabIndex = 0;
      const activate = () => {
        desc = sortCol === i ? !desc : true;
        sortCol = i;
        headCells.forEach((x, j) => (x.dataset.sort = j === i ? (desc ? 'desc' : 'asc') : ''));
        fill();
      };
      th.addEventListener('click', activate);
      th.addEventListener('keydown', (e) => (e.key === 'Enter' || e.key === ' ') && activate());
    }
    return th;
  });
  const fill = () => {
    let rows = spec.rows.map((r, i) => ({ r, i }));
    const col = spec.columns[sortCol];
    if (col?.sort) {
      const key = col.sort;
      rows = rows.sort((a, b) => {
        const x = key(a.r);
        const y = key(b.r);
        // Missing values (null, 无权限, <5) always last.
        if (x === null || x === undefined) return y === null || y === undefined ? a.i - b.i : 1;
        if (y === null || y === undefined) return -1;
        const c = typeof x === 'number' && typeof y === 'number' ? x - y : String(x).localeCompare(String(y), 'zh-CN');
        return (desc ? -c : c) || a.i - b.i;
      });
    }
    tbody.replaceChildren(
      ...rows.map(({ r, i }) => h('tr', null, ...spec.columns.map((c) => h('td', { class: c.numeric ? 'num' : undefined }, c.cell(r, i))))),
    );
  };
  fill();
  const table = h('table', { class: 'data', id: `table-${spec.id}` }, h('thead', null, h('tr', null, ...headCells)), tbody);
  const button = h('button', { type: 'button', class: 'xlsx', 'data-table': spec.id }, t('下载Excel'));
  button.addEventListener('click', () => void downloadXlsx(table, spec.fileName));
  return h(
    'section',
    { class: 'card table-card' },
    h('div', { class: 'card-head' }, h('h3', null, spec.title), button),
    spec.note ? h('p', { class: 'note' }, spec.note) : null,
    h('div', { class: 'table-wrap' }, table),
  );
}

/** A cell's spreadsheet value: the number behind a figure when it shows one, the text otherwise. */
function cellValue(td: HTMLTableCellElement): { value: string | number; format?: string } {
  const fig = td.querySelector<HTMLElement>('.fig');
  if (fig && fig.classList.contains('fig-ok') && fig.dataset.raw) {
    const raw = JSON.parse(fig.dataset.raw) as unknown;
    if (typeof raw === 'number') {
      switch (fig.dataset.kind) {
        case 'rate':
          return { value: raw, format: '0.0%' };
        case 'wan':
          return { value: raw / 10000, format: '#,##0.0' };
        case 'percent':
        case 'score':
          return { value: raw, format: '0.0' };
        default:
          return { value: raw, format: '#,##0' };
      }
    }
  }
  return { value: td.textContent ?? '' };
}

export async function downloadXlsx(table: HTMLTableElement, fileName: string): Promise<void> {
  const header = [...table.tHead!.rows[0]!.cells].map((c) => ({ value: c.textContent ?? '', fontWeight: 'bold' as const }));
  const body = [...table.tBodies[0]!.rows].map((tr) => [...tr.cells].map((td) => cellValue(td)));
  await writeExcelFile([header, ...body], { stickyRowsCount: 1 }).toFile(`${fileName}.xlsx`);
}
