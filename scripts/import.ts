/**
 * `npm run import -- --subgraph NAME --kind KIND FILE.xlsx|FILE.csv [--dry-run] [--sheet NAME]
 * [--token T | env IMPORT_TOKEN] [--url URL] [--batch N] [--report FILE.json]` (docs/import.md).
 * Streams the file and sends batches to the owning subgraph's import mutation (default: the
 * subgraph's URL, `<NAME>_URL` or schema/supergraph.yaml; `--url` may name the gateway instead),
 * with a token holding the bureau's write scope (`npm run token -- --role ...` in the embedded
 * default). Prints the report; exits 1 when rows were rejected, 2 when the import could not run.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { parse as parseYaml } from 'yaml';
import { runImport } from '../lib/import/client';
import { KINDS, kindOf } from '../lib/import/kinds';
import { formatReport } from '../lib/import/report';

const USAGE = `usage: npm run import -- --subgraph NAME --kind ${Object.keys(KINDS).join('|')} FILE.xlsx|FILE.csv [--dry-run] [--sheet NAME] [--token T] [--url URL] [--batch N] [--report FILE.json]`;

/** The subgraph's routing URL: `<NAME>_URL`, else schema/supergraph.yaml. */
function subgraphUrl(name: string): string {
  const env = process.env[`${name.toUpperCase().replace(/[^A-Z0-9]/g, '_')}_URL`];
  if (env) return env;
  const yaml = parseYaml(readFileSync(path.join(__dirname, '../schema/supergraph.yaml'), 'utf8')) as { subgraphs?: Record<string, { routing_url?: string }> };
  const url = yaml.subgraphs?.[name]?.routing_url;
  if (!url) throw new Error(`no routing URL for subgraph "${name}" in schema/supergraph.yaml`);
  return url;
}

async function main() {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      subgraph: { type: 'string' }, kind: { type: 'string' }, 'dry-run': { type: 'boolean' }, sheet: { type: 'string' }, token: { type: 'string' },
      url: { type: 'string' }, batch: { type: 'string' }, report: { type: 'string' }, help: { type: 'boolean' },
    },
  });
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const file = positionals[0];
  if (!values.kind || !file || positionals.length > 1) {
    console.error(USAGE);
    return 2;
  }
  const kind = kindOf(values.kind);
  if (values.subgraph && values.subgraph !== kind.subgraph) {
    console.error(`kind "${kind.name}" belongs to subgraph "${kind.subgraph}", not "${values.subgraph}"`);
    return 2;
  }
  const token = values.token ?? process.env.IMPORT_TOKEN;
  if (!token) {
    console.error(`a bearer token with ${kind.subgraph}:write is required: --token T or IMPORT_TOKEN (embedded default: npm run token -- --role ...)`);
    return 2;
  }
  const batch = values.batch ? Number(values.batch) : undefined;
  if (batch !== undefined && (!Number.isInteger(batch) || batch < 1 || batch > 2000)) {
    console.error('--batch must be a whole number between 1 and 2000');
    return 2;
  }
  const tty = process.stderr.isTTY;
  const report = await runImport({
    kind: kind.name,
    file,
    sheet: values.sheet,
    dryRun: values['dry-run'] ?? false,
    url: values.url ?? subgraphUrl(kind.subgraph),
    token,
    batchSize: batch,
    onProgress: (n) => {
      if (tty) process.stderr.write(`\r${kind.name}: ${n} rows read…`);
    },
  });
  if (tty) process.stderr.write('\r\x1b[K');
  console.log(formatReport(report));
  if (values.report) writeFileSync(values.report, JSON.stringify(report, null, 2));
  return report.rejected > 0 ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (e) => {
    console.error(`import: ${(e as Error).message}`);
    process.exit(2);
  },
);
