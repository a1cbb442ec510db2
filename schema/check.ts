/**
 * `npm run schema:check [-- --base <git ref>]`: composition succeeds, the generated supergraph and
 * contract files are up to date, and the API schema has no breaking change against the base ref
 * (default: main) other than removals the deprecation policy allows. Exits non-zero on failure.
 * The logic is in schema/checks.ts; test/schema/check-head.test.ts runs it inside `npm test`.
 */
import { runSchemaCheck } from './checks';

function parseArgs(argv: string[]): { base?: string } {
  const out: { base?: string } = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--base') {
      const v = argv[++i];
      if (!v) throw new Error('--base needs a git ref, e.g. --base main or --base HEAD~1');
      out.base = v;
    } else if (a.startsWith('--base=')) out.base = a.slice('--base='.length);
    else throw new Error(`unknown argument "${a}"; usage: npm run schema:check [-- --base <git ref>]`);
  }
  return out;
}

async function main(): Promise<number> {
  let args;
  try {
    args = parseArgs(process.argv.slice(2));
  } catch (e) {
    console.error(`schema:check: ${(e as Error).message}`);
    return 2;
  }
  const res = await runSchemaCheck({ base: args.base });
  for (const n of res.notes) console.log(`  ${n}`);
  for (const w of res.warnings) console.warn(`warning: ${w}`);
  for (const e of res.errors) console.error(`error: ${e}`);
  if (res.ok) console.log('schema:check passed');
  else console.error(`schema:check FAILED with ${res.errors.length} error(s)`);
  return res.ok ? 0 : 1;
}

main().then(
  (code) => (process.exitCode = code),
  (err) => {
    console.error(`schema:check crashed: ${err instanceof Error ? err.stack : String(err)}`);
    process.exitCode = 1;
  },
);
