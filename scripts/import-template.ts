/**
 * `npm run import:template -- --kind KIND [--out FILE.xlsx]`: writes an empty import workbook for a
 * kind (docs/import.md): the headers, a note per header (type, unit, allowed values) and one example row.
 */
import { parseArgs } from 'node:util';
import { KINDS, kindOf } from '../lib/import/kinds';
import { buildTemplate } from '../lib/import/template';

async function main() {
  const { values } = parseArgs({ options: { kind: { type: 'string' }, out: { type: 'string' }, help: { type: 'boolean' } } });
  if (values.help || !values.kind) {
    console.error(`usage: npm run import:template -- --kind ${Object.keys(KINDS).join('|')} [--out FILE.xlsx]`);
    process.exit(values.help ? 0 : 2);
  }
  const kind = kindOf(values.kind);
  const out = values.out ?? `${kind.name}-template.xlsx`;
  await buildTemplate(kind).xlsx.writeFile(out);
  console.log(`wrote ${out}: ${kind.title} (${kind.columns.length} columns) → ${kind.subgraph}.${kind.mutation}`);
}

main().catch((e) => {
  console.error(`import:template: ${(e as Error).message}`);
  process.exit(2);
});
