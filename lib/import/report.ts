/**
 * The import report as people read it: totals, then every rejected row with its sheet, row number,
 * column and the message in Chinese and English. Cell values are never printed (a rejected row may
 * hold personal data such as an ID-card number).
 */
import type { ImportReport } from './client';

export function formatReport(r: ImportReport): string {
  const lines = [
    `${r.dryRun ? '试运行（未写入）/ dry run (nothing written)' : '导入完成 / import done'}: ${r.kind} → ${r.subgraph}, ${r.file}${r.sheet ? ` [${r.sheet}]` : ''}`,
    `读取 read ${r.read} · 新增 inserted ${r.inserted} · 更新 updated ${r.updated} · 未变 unchanged ${r.unchanged} · 拒绝 rejected ${r.rejected}` +
      (r.dryRun ? '（试运行：新增/更新为将要发生的变更 / dry run: inserted/updated are what a real run would do）' : ''),
  ];
  if (r.ignoredHeaders.length) lines.push(`忽略的列 / ignored columns: ${r.ignoredHeaders.join(', ')}`);
  if (r.rejections.length) {
    lines.push('', '被拒绝的行 / rejected rows:', '表 sheet\t行 row\t列 column\t原因 reason');
    for (const x of r.rejections) {
      lines.push(`${x.sheet}\t${x.row}\t${x.column ?? x.field ?? '-'}${x.column && x.field ? ` (${x.field})` : ''}\t${x.messageZh} / ${x.message}`);
    }
  }
  if (r.statistics) {
    const s = r.statistics;
    lines.push(`统计已更新 / statistics refreshed: ${s.records} 条记录 records, ${s.areas} 个区域 areas, ${s.batches} 批 batches (${(s.elapsedMs / 1000).toFixed(1)} s)`);
  }
  lines.push(`用时 elapsed ${(r.elapsedMs / 1000).toFixed(1)} s`);
  return lines.join('\n');
}
