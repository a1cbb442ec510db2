/**
 * `npm run compose`: composes schema/supergraph.yaml + the subgraph SDL files into
 * schema/supergraph.graphql and builds every contract of schema/contracts/contracts.yaml
 * (schema/contracts/<name>.graphql + <name>.supergraph.graphql). Errors and hints name the
 * subgraph(s) and the type or field they concern; exits non-zero on errors (nothing is written).
 */
import { buildSchemaOutputs, writeSchemaOutputs } from './build';
import { displayPath } from './composition';

export function runCompose(schemaDir?: string, out: Pick<Console, 'log' | 'warn' | 'error'> = console): number {
  let result;
  try {
    result = buildSchemaOutputs(schemaDir);
  } catch (e) {
    out.error(`compose: ${(e as Error).message}`);
    return 1;
  }
  for (const h of result.hints) out.warn(`hint: ${h}`);
  if (!result.ok) {
    out.error(`composition failed with ${result.errors.length} error(s); nothing was written:`);
    for (const e of result.errors) out.error(`  error: ${e}`);
    return 1;
  }
  const written = writeSchemaOutputs(result.files);
  out.log(
    `composed ${result.subgraphs.map((s) => s.name).join(', ')} (${result.hints.length} hints)` +
      (result.contracts.length ? `; contracts: ${result.contracts.map((c) => c.contract.name).join(', ')}` : ''),
  );
  for (const f of result.files) out.log(`  ${written.includes(f.file) ? 'wrote    ' : 'unchanged'} ${displayPath(f.file)}`);
  return 0;
}

if (require.main === module) process.exitCode = runCompose();
