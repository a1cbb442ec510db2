/**
 * The logic of `npm run schema:check` (CLI in schema/check.ts; also run by test/schema/ inside
 * `npm test`, which is how CI runs it):
 *   1. composition succeeds (errors name the subgraphs and types);
 *   2. schema/supergraph.graphql and every contract file are what `npm run compose` would write;
 *   3. the API schema is compared with the one composed from the SDL files at a base git ref
 *      (default: the last commit on main) with @graphql-inspector/core: every breaking change
 *      fails with one message naming the owning subgraph and its owner, except the removal of a
 *      field or enum value that was `@deprecated(reason: "…")` on the base (the deprecation policy
 *      in CONTRIBUTING.md); dangerous changes are warnings;
 *   4. the dashboard's operations (dashboard/operations/*.graphql, next to the schema folder) are
 *      valid against the API schema, so a change that breaks the dashboard fails here too.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, realpathSync } from 'node:fs';
import path from 'node:path';
import { CriticalityLevel, diff, type Change } from '@graphql-inspector/core';
import {
  buildSchema,
  getNamedType,
  isInputObjectType,
  isInterfaceType,
  isObjectType,
  Kind,
  parse,
  type DocumentNode,
  type GraphQLInputType,
  type GraphQLSchema,
  type GraphQLType,
} from 'graphql';
import { buildSchemaOutputs, staleOutputs } from './build';
import { composeContract, parseContracts, type ContractDefinition } from './contract';
import { composeSubgraphs, displayPath, parseSubgraphList, SCHEMA_DIR, type SubgraphEntry } from './composition';
import { loadOperations, validateOperations } from '../dashboard/operations';

export interface SchemaCheckOptions {
  /** Schema folder (default: this folder). Must be inside a git work tree for the base diff. */
  schemaDir?: string;
  /** Git ref to compare with; default `main` (or HEAD when there is no main branch). */
  base?: string;
  /** Skip the "generated files are up to date" step (used when only the diff matters). */
  skipUpToDate?: boolean;
}

export interface SchemaCheckResult {
  ok: boolean;
  errors: string[];
  warnings: string[];
  notes: string[];
  /** Breaking changes (after the deprecation policy), for tests and tooling. */
  breaking: { type: string; path?: string; owners: string[]; message: string; contract?: string }[];
}

export async function runSchemaCheck(opts: SchemaCheckOptions = {}): Promise<SchemaCheckResult> {
  const schemaDir = realpathSync(path.resolve(opts.schemaDir ?? SCHEMA_DIR));
  const res: SchemaCheckResult = { ok: true, errors: [], warnings: [], notes: [], breaking: [] };
  const fail = (m: string) => {
    res.ok = false;
    res.errors.push(m);
  };

  // 1. Composition (and contracts).
  let build;
  try {
    build = buildSchemaOutputs(schemaDir);
  } catch (e) {
    fail(`compose: ${(e as Error).message}`);
    return res;
  }
  for (const h of build.hints) res.warnings.push(`composition hint: ${h}`);
  if (!build.ok || !build.supergraph.apiSdl) {
    for (const e of build.errors) fail(`composition: ${e}`);
    return res;
  }
  res.notes.push(`composition ok: ${build.subgraphs.map((s) => s.name).join(', ')}`);
  checkClientOperations(res, path.join(schemaDir, '..', 'dashboard', 'operations'), build.supergraph.apiSdl, fail);

  // 2. Generated files up to date.
  if (!opts.skipUpToDate) {
    const stale = staleOutputs(build.files);
    for (const f of stale) fail(`${displayPath(f)} is out of date: run \`npm run compose\` and commit the result`);
    if (!stale.length) res.notes.push(`generated files up to date (${build.files.map((f) => path.basename(f.file)).join(', ')})`);
  }

  // 3. Breaking changes against the base ref.
  const git = gitIn(schemaDir);
  if (!git) {
    res.warnings.push('not inside a git work tree: breaking-change check skipped');
    return res;
  }
  const base = opts.base ?? (git.hasRef('main') ? 'main' : 'HEAD');
  const rel = path.relative(git.root, schemaDir).split(path.sep).join('/');
  const yamlAtBase = git.show(base, `${rel}/supergraph.yaml`);
  if (yamlAtBase === null) {
    if (!git.hasRef(base)) fail(`base ref "${base}" not found`);
    else res.notes.push(`${rel}/supergraph.yaml does not exist at ${base}: nothing to compare with`);
    return res;
  }
  let baseSubgraphs: SubgraphEntry[];
  try {
    baseSubgraphs = parseSubgraphList(
      yamlAtBase,
      (file) => {
        const text = git.show(base, path.posix.normalize(`${rel}/${file}`));
        if (text === null) throw new Error('missing');
        return text;
      },
      `${rel}/supergraph.yaml at ${base}`,
      schemaDir,
    );
  } catch (e) {
    res.warnings.push(`cannot read the base schema at ${base}: ${(e as Error).message}; breaking-change check skipped`);
    return res;
  }
  const baseComposed = composeSubgraphs(baseSubgraphs);
  if (!baseComposed.ok || !baseComposed.apiSdl) {
    res.warnings.push(`the base schema at ${base} does not compose; breaking-change check skipped`);
    return res;
  }
  const baseIndex = new SdlIndex(baseSubgraphs);
  const currentIndex = new SdlIndex(build.subgraphs);
  const seen = await compareApis(res, `the API schema with ${base}`, baseComposed.apiSdl, build.supergraph.apiSdl, baseIndex, currentIndex);

  // Each contract is an API of its own (the public one has the most clients): same rules.
  const contractsAtBase = git.show(base, `${rel}/contracts/contracts.yaml`);
  if (contractsAtBase !== null) {
    let baseContracts: ContractDefinition[] = [];
    try {
      baseContracts = parseContracts(contractsAtBase, `${rel}/contracts/contracts.yaml at ${base}`);
    } catch (e) {
      res.warnings.push(`cannot read the base contracts: ${(e as Error).message}`);
    }
    for (const { contract, report } of build.contracts) {
      const baseDef = baseContracts.find((c) => c.name === contract.name);
      if (!baseDef || !report.apiSdl) continue;
      const baseContract = composeContract(baseSubgraphs, baseDef);
      if (!baseContract.ok || !baseContract.apiSdl) continue;
      // Changes already reported for the whole API are not repeated: one message per change.
      await compareApis(res, `the "${contract.name}" contract with ${base}`, baseContract.apiSdl, report.apiSdl, baseIndex, currentIndex, contract.name, seen);
    }
  }
  return res;
}

/** The dashboard's operations must validate against the composed API schema (skipped when the folder is absent). */
function checkClientOperations(res: SchemaCheckResult, dir: string, apiSdl: string, fail: (m: string) => void): void {
  if (!existsSync(dir)) return;
  try {
    const ops = loadOperations(dir);
    const problems = validateOperations(buildSchema(apiSdl), ops);
    for (const p of problems) fail(`dashboard operation ${p} (update the operation, or keep the field: see the deprecation policy)`);
    if (!problems.length) res.notes.push(`dashboard operations valid against the API schema (${ops.length} operations)`);
  } catch (e) {
    fail(`dashboard operations: ${(e as Error).message}`);
  }
}

/** Diffs two API schemas; breaking changes fail (unless the deprecation policy allows them). */
async function compareApis(
  res: SchemaCheckResult,
  label: string,
  oldSdl: string,
  newSdl: string,
  baseIndex: SdlIndex,
  currentIndex: SdlIndex,
  contract?: string,
  skip = new Set<string>(),
): Promise<Set<string>> {
  const oldSchema = buildSchema(oldSdl);
  const changes = await diff(oldSchema, buildSchema(newSdl));
  const prefix = contract ? `[contract ${contract}] ` : '';
  let allowed = 0;
  let breaking = 0;
  const reported = new Set<string>();
  for (const change of changes) {
    const level = change.criticality.level;
    if (level === CriticalityLevel.NonBreaking) continue;
    const key = `${change.type} ${change.path ?? change.message}`;
    reported.add(key);
    if (skip.has(key)) continue;
    // The most specific owner known: the element itself at the base or now, else its parent type.
    const exact = [...baseIndex.ownersOf(change.path, true), ...currentIndex.ownersOf(change.path, true)];
    const owners = [...new Set(exact.length ? exact : [...baseIndex.ownersOf(change.path), ...currentIndex.ownersOf(change.path)])];
    const who = owners.length ? ` [owner: ${owners.join('; ')}]` : '';
    if (level === CriticalityLevel.Dangerous) {
      res.warnings.push(`${prefix}DANGEROUS ${change.type} ${change.path ?? ''}${who}: ${change.message}`);
      continue;
    }
    const excuse = deprecationExcuse(change, oldSchema, baseIndex);
    if (excuse) {
      allowed++;
      res.notes.push(`${prefix}allowed: ${change.message} (${excuse})`);
      continue;
    }
    breaking++;
    res.breaking.push({ type: change.type, path: change.path, owners, message: change.message, contract });
    res.ok = false;
    const hint = contract ? ' (removing a public tag is a breaking change for the contract\'s clients too)' : '';
    res.errors.push(`${prefix}BREAKING ${change.type} ${change.path ?? ''}${who}: ${change.message}. ${advice(change)}${hint}`);
  }
  res.notes.push(`${prefix}compared ${label}: ${changes.length} change(s), ${breaking} breaking, ${allowed} allowed by the deprecation policy`);
  return reported;
}

function advice(change: Change): string {
  switch (change.type) {
    case 'FIELD_REMOVED':
    case 'ENUM_VALUE_REMOVED':
      return 'Deprecate it first (@deprecated(reason: "…")), merge, and remove it in a later change (see CONTRIBUTING.md)';
    case 'FIELD_ARGUMENT_ADDED':
    case 'INPUT_FIELD_ADDED':
      return 'New arguments and input fields must be nullable or have a default';
    default:
      return 'Make the change additive (new field or type) and deprecate the old one';
  }
}

/** Why a breaking change is acceptable under the deprecation policy, or null. */
function deprecationExcuse(change: Change, oldSchema: GraphQLSchema, base: SdlIndex): string | null {
  const p = change.path ?? '';
  if (change.type === 'FIELD_REMOVED' || change.type === 'ENUM_VALUE_REMOVED') {
    const reason = base.deprecationReason(p);
    return reason ? `deprecated on the base: "${reason}"` : null;
  }
  if (change.type === 'TYPE_REMOVED') {
    // A type may go when every field that returned it was deprecated (and is being removed with it).
    const refs = referencesTo(oldSchema, p);
    if (refs.length && refs.every((r) => base.deprecationReason(r))) return `only referenced by deprecated fields ${refs.join(', ')}`;
  }
  return null;
}

function referencesTo(schema: GraphQLSchema, typeName: string): string[] {
  const refs: string[] = [];
  for (const t of Object.values(schema.getTypeMap())) {
    if (t.name.startsWith('__')) continue;
    if (isObjectType(t) || isInterfaceType(t) || isInputObjectType(t)) {
      const fields: { name: string; type: GraphQLType; args?: readonly { type: GraphQLType }[] }[] = Object.values(t.getFields());
      for (const f of fields) {
        const uses = [f.type, ...(f.args ?? []).map((a) => a.type)].some((ty) => getNamedType(ty as GraphQLInputType)?.name === typeName);
        if (uses) refs.push(`${t.name}.${f.name}`);
      }
    }
  }
  return refs;
}

/**
 * Who defines what, read from the subgraph SDL files: `Type`, `Type.field` and `Enum.VALUE` →
 * subgraph names (fields marked @external are not owned), plus explicit deprecation reasons.
 */
class SdlIndex {
  private owners = new Map<string, Set<string>>();
  private ownerOf = new Map<string, string>();
  private reasons = new Map<string, string>();

  constructor(subgraphs: SubgraphEntry[]) {
    for (const s of subgraphs) {
      this.ownerOf.set(s.name, s.owner);
      let doc: DocumentNode;
      try {
        doc = parse(s.sdl);
      } catch {
        continue;
      }
      for (const def of doc.definitions) {
        if (!('name' in def) || !def.name) continue;
        if (def.kind === Kind.DIRECTIVE_DEFINITION) continue;
        const type = def.name.value;
        this.add(type, s.name);
        const members = 'fields' in def && def.fields ? def.fields : 'values' in def && def.values ? def.values : [];
        for (const m of members) {
          const coord = `${type}.${m.name.value}`;
          const directives = m.directives ?? [];
          if (directives.some((d) => d.name.value === 'external' || d.name.value === 'federation__external')) continue;
          this.add(coord, s.name);
          const dep = directives.find((d) => d.name.value === 'deprecated');
          const reason = dep?.arguments?.find((a) => a.name.value === 'reason')?.value;
          if (reason && reason.kind === Kind.STRING && reason.value.trim()) this.reasons.set(coord, reason.value.trim());
        }
      }
    }
  }

  private add(coord: string, subgraph: string) {
    const set = this.owners.get(coord) ?? new Set<string>();
    set.add(subgraph);
    this.owners.set(coord, set);
  }

  /** "subgraph (owner)" for the path's `Type.field` (or `Type`); with !exactOnly, falls back to the type. */
  ownersOf(p: string | undefined, exactOnly = false): string[] {
    if (!p) return [];
    const parts = p.split('.');
    const most = Math.min(parts.length, 2);
    for (let n = most; n > (exactOnly ? most - 1 : 0); n--) {
      const set = this.owners.get(parts.slice(0, n).join('.'));
      if (set?.size) return [...set].map((name) => `${name} (${this.ownerOf.get(name) ?? 'unowned'})`);
    }
    return [];
  }

  deprecationReason(coord: string): string | undefined {
    return this.reasons.get(coord);
  }
}

interface Git {
  root: string;
  show(ref: string, file: string): string | null;
  hasRef(ref: string): boolean;
}

function gitIn(dir: string): Git | null {
  const run = (args: string[]) => execFileSync('git', args, { cwd: dir, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 64 << 20 });
  let root: string;
  try {
    root = run(['rev-parse', '--show-toplevel']).trim();
  } catch {
    return null;
  }
  return {
    root,
    show: (ref, file) => {
      try {
        return run(['show', `${ref}:${file}`]);
      } catch {
        return null;
      }
    },
    hasRef: (ref) => {
      try {
        run(['rev-parse', '--verify', '--quiet', `${ref}^{commit}`]);
        return true;
      } catch {
        return false;
      }
    },
  };
}
