/**
 * `npm run subgraph:new -- --name <name> --owner "<bureau or agency>" [--port N] [--team @org/team]`
 *
 * Scaffolds a subgraph that follows every convention of subgraphs/properties: the SDL file
 * schema/<name>.graphql (a sample entity it owns plus fields added to `Community`), codegen
 * mappers and typed resolvers (codegen is run), model, repository, loaders, context, index.ts
 * declaring the subgraph with `defineSubgraph` (lib/subgraph-module.ts), idempotent seed, README with the owner, tests; then adds it
 * to schema/supergraph.yaml, .github/CODEOWNERS and scripts/subgraphs.ts (so `npm start` serves
 * it) and recomposes the supergraph and contracts. The composition is tried in memory first:
 * when the new subgraph would not compose, nothing is written. Any later failure rolls back every
 * file written. A partner whose subgraph runs elsewhere does not use this: see CONTRIBUTING.md.
 */
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';
import { composeSubgraphs, readSubgraphList, type SubgraphEntry } from '../schema/composition';
import * as T from './templates/subgraph';

export interface NewSubgraphArgs {
  name: string;
  owner: string;
  port?: number;
  team?: string;
}

export class UsageError extends Error {}

const USAGE = 'usage: npm run subgraph:new -- --name <name> --owner "<bureau or agency>" [--port N] [--team @org/team]';
const RESERVED = new Set(['gateway', 'schema', 'lib', 'test', 'scripts', 'contracts', 'supergraph', 'templates']);

export function parseArgs(argv: readonly string[]): NewSubgraphArgs {
  const out: Partial<Record<'name' | 'owner' | 'port' | 'team', string>> = {};
  for (let i = 0; i < argv.length; i++) {
    const m = /^--(name|owner|port|team)(?:=(.*))?$/.exec(argv[i]);
    if (!m) throw new UsageError(`unknown argument "${argv[i]}"\n${USAGE}`);
    const value = m[2] ?? argv[++i];
    if (value === undefined || (m[2] === undefined && value.startsWith('--'))) throw new UsageError(`--${m[1]} needs a value\n${USAGE}`);
    out[m[1] as 'name'] = value;
  }
  if (!out.name) throw new UsageError(`--name is required\n${USAGE}`);
  if (!out.owner || !out.owner.trim()) throw new UsageError(`--owner is required (the bureau or agency that owns the subgraph)\n${USAGE}`);
  let port: number | undefined;
  if (out.port !== undefined) {
    port = Number(out.port);
    if (!/^\d+$/.test(out.port) || port < 1024 || port > 65535) throw new UsageError(`--port must be an integer between 1024 and 65535, got "${out.port}"`);
  }
  return { name: out.name, owner: out.owner.trim(), port, team: out.team };
}

interface Plan {
  names: T.SubgraphNames;
  files: { file: string; content: string }[];
  edits: { file: string; content: string }[];
}

/** Validates the arguments against the repository and computes every file to write. */
export function planSubgraph(root: string, args: NewSubgraphArgs): Plan {
  const { name, owner } = args;
  if (!/^[a-z][a-z0-9-]*$/.test(name) || name.endsWith('-') || name.includes('--')) {
    throw new UsageError(`--name "${name}" is invalid: use lowercase letters, digits and single hyphens, starting with a letter (e.g. parking-permits)`);
  }
  if (RESERVED.has(name)) throw new UsageError(`--name "${name}" is reserved`);
  const schemaDir = path.join(root, 'schema');
  const yamlFile = path.join(schemaDir, 'supergraph.yaml');
  const existing = readSubgraphList(yamlFile);
  if (existing.some((s) => s.name === name)) throw new UsageError(`subgraph "${name}" already exists in schema/supergraph.yaml`);
  for (const p of [`schema/${name}.graphql`, `subgraphs/${name}`]) {
    if (existsSync(path.join(root, p))) throw new UsageError(`${p} already exists; choose another --name`);
  }
  const used = new Map<number, string>();
  for (const s of existing) {
    const port = portOf(s.url);
    if (port) used.set(port, s.name);
  }
  let port = args.port;
  if (port !== undefined) {
    if (used.has(port)) throw new UsageError(`port ${port} is already used by subgraph "${used.get(port)}" in schema/supergraph.yaml`);
    if (port === 4000) throw new UsageError('port 4000 is the gateway\'s default port');
  } else {
    port = Math.max(4000, ...used.keys()) + 1;
  }
  const team = args.team ?? `@city-graph/${name}-team`;
  if (!/^@[\w.-]+(\/[\w.-]+)?$/.test(team)) throw new UsageError(`--team "${team}" is not a GitHub user or team handle (@org/team)`);
  const n = T.namesFor(name, owner, port, team);

  const sub = (p: string) => path.join(root, 'subgraphs', name, p);
  const files = [
    { file: path.join(schemaDir, `${name}.graphql`), content: T.sdl(n) },
    { file: sub('codegen-mappers.json'), content: T.codegenMappers(n) },
    { file: sub('models/index.ts'), content: T.models(n) },
    { file: sub('services/repository.ts'), content: T.repository(n) },
    { file: sub('loaders.ts'), content: T.loaders(n) },
    { file: sub('context.ts'), content: T.context() },
    { file: sub('resolvers/index.ts'), content: T.resolversIndex(n) },
    { file: sub('resolvers/query.ts'), content: T.resolversQuery(n) },
    { file: sub('resolvers/community.ts'), content: T.resolversCommunity(n) },
    { file: sub('resolvers/record.ts'), content: T.resolversRecord(n) },
    { file: sub('seed.ts'), content: T.seed(n) },
    { file: sub('index.ts'), content: T.index(n) },
    { file: sub(`test/${name}.test.ts`), content: T.test(n) },
    { file: sub('README.md'), content: T.readme(n) },
  ];

  // Dry run: the new SDL must compose with the others before anything is written.
  const entry: SubgraphEntry = { name, url: `http://127.0.0.1:${port}/graphql`, owner, sdlFile: files[0].file, sdl: files[0].content };
  const report = composeSubgraphs([...existing, entry]);
  if (!report.ok) {
    throw new UsageError(`the new subgraph would not compose with the others; nothing was written:\n  ${report.errors.join('\n  ')}`);
  }

  const edits = [
    { file: yamlFile, content: addYamlEntry(readFileSync(yamlFile, 'utf8'), n) },
    { file: path.join(root, '.github', 'CODEOWNERS'), content: addCodeowners(readIfExists(path.join(root, '.github', 'CODEOWNERS')), n) },
    { file: path.join(root, 'scripts', 'subgraphs.ts'), content: addStartup(readFileSync(path.join(root, 'scripts', 'subgraphs.ts'), 'utf8'), n) },
  ];
  return { names: n, files, edits };
}

function portOf(url: string): number | undefined {
  try {
    const u = new URL(url);
    if (!['127.0.0.1', 'localhost', '0.0.0.0', '::1', '[::1]'].includes(u.hostname)) return undefined;
    return Number(u.port || (u.protocol === 'https:' ? 443 : 80));
  } catch {
    return undefined;
  }
}

function readIfExists(file: string): string {
  return existsSync(file) ? readFileSync(file, 'utf8') : '';
}

/** Appends the entry as text, so the file's comments and order stay as they are. */
export function addYamlEntry(text: string, n: T.SubgraphNames): string {
  const entry =
    `  ${n.name}:\n` +
    `    routing_url: http://127.0.0.1:${n.port}/graphql\n` +
    `    owner: ${JSON.stringify(n.owner)}\n` +
    `    schema:\n` +
    `      file: ./${n.name}.graphql\n`;
  const next = (text.endsWith('\n') ? text : text + '\n') + entry;
  // Safety: the result must parse and contain the entry.
  const doc = YAML.parse(next) as { subgraphs?: Record<string, { owner?: string }> };
  if (doc?.subgraphs?.[n.name]?.owner !== n.owner) throw new Error('schema/supergraph.yaml: could not append the new entry (is "subgraphs:" the last map?)');
  return next;
}

export function addCodeowners(text: string, n: T.SubgraphNames): string {
  const header = text
    ? ''
    : '# Code owners per bureau path: a change to a subgraph or its SDL needs a review by its owner.\n' +
      '# Later lines win. See CONTRIBUTING.md.\n';
  const block = `\n# ${n.name}: ${n.owner}\n/schema/${n.name}.graphql ${n.team}\n/subgraphs/${n.name}/ ${n.team}\n`;
  return header + (text.endsWith('\n') || !text ? text : text + '\n') + block;
}

/** Adds `import { subgraph as <camel> } from '../subgraphs/<name>';` and the list entry. */
export function addStartup(text: string, n: T.SubgraphNames): string {
  const imports = [...text.matchAll(/^import \{ subgraph as (\w+) \} from '\.\.\/subgraphs\/[^']+';\n/gm)];
  if (!imports.length) throw new Error("scripts/subgraphs.ts: no `import { subgraph as x } from '../subgraphs/x';` line found");
  const ident = imports.some((m) => m[1] === n.camel) ? `${n.camel}Subgraph` : n.camel;
  const last = imports[imports.length - 1];
  const at = last.index! + last[0].length;
  let next = `${text.slice(0, at)}import { subgraph as ${ident} } from '../subgraphs/${n.name}';\n${text.slice(at)}`;
  const list = /(export const SUBGRAPHS: SubgraphModule\[\] = \[)([^\]]*)(\];)/.exec(next);
  if (!list) throw new Error('scripts/subgraphs.ts: no `export const SUBGRAPHS: SubgraphModule[] = [...]` found');
  const items = list[2].trim().replace(/,$/, '');
  next = next.replace(list[0], `${list[1]}${items ? `${items}, ` : ''}${ident}${list[3]}`);
  return next;
}

/** Writes the plan, runs codegen for the new subgraph and recomposes; rolls back on failure. */
export async function scaffold(root: string, args: NewSubgraphArgs, log: (m: string) => void = console.log): Promise<T.SubgraphNames> {
  const plan = planSubgraph(root, args);
  const n = plan.names;
  const created: string[] = [];
  const originals = new Map<string, string | null>();
  try {
    for (const f of plan.files) {
      mkdirSync(path.dirname(f.file), { recursive: true });
      writeFileSync(f.file, f.content, { flag: 'wx' });
      created.push(f.file);
    }
    for (const e of plan.edits) {
      originals.set(e.file, existsSync(e.file) ? readFileSync(e.file, 'utf8') : null);
      mkdirSync(path.dirname(e.file), { recursive: true });
      writeFileSync(e.file, e.content);
    }
    const generated = await runCodegen(root, n.name);
    created.push(generated);
    const { runCompose } = await import('../schema/compose');
    const lines: string[] = [];
    const code = runCompose(path.join(root, 'schema'), { log: (m: string) => lines.push(m), warn: (m: string) => lines.push(m), error: (m: string) => lines.push(m) });
    if (code !== 0) throw new Error(`compose failed after scaffolding:\n${lines.join('\n')}`);
    for (const l of lines) log(l);
  } catch (err) {
    for (const f of created.reverse()) rmSync(f, { force: true });
    rmSync(path.join(root, 'subgraphs', n.name), { recursive: true, force: true });
    for (const [file, content] of originals) {
      if (content === null) rmSync(file, { force: true });
      else writeFileSync(file, content);
    }
    throw err;
  }
  const rel = (f: string) => path.relative(root, f);
  log(`\ncreated subgraph "${n.name}" (owner: ${n.owner}, port ${n.port}, code owners ${n.team}):`);
  for (const f of [...plan.files.map((f) => f.file), path.join(root, 'subgraphs', n.name, '__generated__/resolvers-types.ts')]) log(`  new      ${rel(f)}`);
  for (const e of plan.edits) log(`  updated  ${rel(e.file)}`);
  log(
    [
      '',
      'next:',
      `  ${`npx jest subgraphs/${n.name}`.padEnd(40)} # its tests`,
      `  ${'npm test'.padEnd(40)} # everything, the new subgraph included`,
      `  ${'npm start'.padEnd(40)} # serves it at http://127.0.0.1:${n.port}/graphql and through the gateway`,
      `  then rename ${n.pascal}Record to your domain, following CONTRIBUTING.md (edit SDL → codegen → compose → schema:check → tests).`,
    ].join('\n'),
  );
  return n;
}

/** Runs graphql-codegen (the project's codegen.ts) for the new subgraph only. */
async function runCodegen(root: string, name: string): Promise<string> {
  const key = `subgraphs/${name}/__generated__/resolvers-types.ts`;
  const cwd = process.cwd();
  process.chdir(root); // codegen.ts uses paths relative to the repository root
  try {
    const { generate } = await import('@graphql-codegen/cli');
    const configModule = await import(path.join(root, 'codegen.ts'));
    const config = configModule.default ?? configModule;
    const target = (config.generates as Record<string, unknown>)[key];
    if (!target) throw new Error(`codegen.ts has no output ${key}`);
    await generate({ ...config, generates: { [key]: target }, silent: true }, true);
  } finally {
    process.chdir(cwd);
  }
  return path.join(root, key);
}

async function main(): Promise<number> {
  try {
    const args = parseArgs(process.argv.slice(2));
    await scaffold(path.resolve(__dirname, '..'), args);
    return 0;
  } catch (err) {
    if (err instanceof UsageError) {
      console.error(`subgraph:new: ${err.message}`);
      return 2;
    }
    console.error(`subgraph:new failed (nothing was left behind): ${err instanceof Error ? err.message : String(err)}`);
    return 1;
  }
}

if (require.main === module) main().then((code) => (process.exitCode = code));
