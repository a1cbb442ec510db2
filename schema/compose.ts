/** `npm run compose`: writes schema/supergraph.graphql; exits non-zero on composition errors. */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { composeFromYaml, SUPERGRAPH_FILE } from './composition';

function main(): number {
  let report;
  try {
    report = composeFromYaml();
  } catch (e) {
    console.error(`compose: ${(e as Error).message}`);
    return 1;
  }
  for (const h of report.hints) console.warn(`hint: ${h}`);
  if (!report.ok || !report.supergraphSdl) {
    console.error(`composition failed with ${report.errors.length} error(s):`);
    for (const e of report.errors) console.error(`  error: ${e}`);
    return 1;
  }
  writeFileSync(SUPERGRAPH_FILE, report.supergraphSdl);
  console.log(
    `composed ${report.subgraphs.map((s) => s.name).join(', ')} -> ${path.relative(process.cwd(), SUPERGRAPH_FILE)} ` +
      `(${report.supergraphSdl.length} chars, ${report.hints.length} hints)`,
  );
  return 0;
}

process.exitCode = main();
