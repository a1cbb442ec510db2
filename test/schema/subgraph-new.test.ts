/**
 * `npm run subgraph:new` in a temporary copy of the repository (the real tree is never touched):
 * the scaffolded subgraph composes, its own generated tests pass, it is registered for start-up,
 * CODEOWNERS and the supergraph, it answers `_entities`, and a real gateway joins it with the
 * properties subgraph both ways. Bad arguments are refused with clear messages.
 */
import { execFile } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import YAML from 'yaml';
import { parseArgs, planSubgraph, UsageError } from '../../scripts/subgraph-new';

const run = promisify(execFile);
const ROOT = path.resolve(__dirname, '../..');
const NAME = 'parking-permits';
const OWNER = '市交通局 静态交通处 (parking office)';

/** A copy of the parts the scaffolder writes; everything else is symlinked to the real tree. */
function copyRepo(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'subgraph-new-'));
  for (const f of ['codegen.ts', 'package.json', 'tsconfig.json', 'jest.config.js', '.swcrc']) {
    if (existsSync(path.join(ROOT, f))) cpSync(path.join(ROOT, f), path.join(dir, f));
  }
  for (const d of ['schema', 'scripts', '.github']) {
    if (existsSync(path.join(ROOT, d))) cpSync(path.join(ROOT, d), path.join(dir, d), { recursive: true });
  }
  for (const d of ['node_modules', 'lib', 'embedded-mongo', 'gateway', 'test', 'dashboard']) symlinkSync(path.join(ROOT, d), path.join(dir, d));
  mkdirSync(path.join(dir, 'subgraphs'));
  for (const d of readdirSync(path.join(ROOT, 'subgraphs'), { withFileTypes: true })) {
    if (d.isDirectory()) symlinkSync(path.join(ROOT, 'subgraphs', d.name), path.join(dir, 'subgraphs', d.name));
  }
  return dir;
}

let copy: string;
let scaffoldOutput: string;

beforeAll(async () => {
  copy = copyRepo();
  const res = await run(process.execPath, [path.join(ROOT, 'node_modules/tsx/dist/cli.mjs'), 'scripts/subgraph-new.ts', '--name', NAME, '--owner', OWNER], {
    cwd: copy,
    env: { ...process.env, APOLLO_TELEMETRY_DISABLED: '1' },
  });
  scaffoldOutput = res.stdout + res.stderr;
}, 240_000);

afterAll(() => {
  if (copy) rmSync(copy, { recursive: true, force: true });
});

describe('subgraph:new', () => {
  it('writes every file of the convention and registers the subgraph everywhere', () => {
    expect(scaffoldOutput).toMatch(new RegExp(`created subgraph "${NAME}" \\(owner: ${OWNER.replace(/[()]/g, '\\$&')}, port 4005`));
    const sub = path.join(copy, 'subgraphs', NAME);
    for (const f of [
      'index.ts', 'context.ts', 'loaders.ts', 'seed.ts', 'README.md', 'codegen-mappers.json', 'models/index.ts',
      'services/repository.ts', 'resolvers/index.ts', 'resolvers/community.ts', `test/${NAME}.test.ts`, '__generated__/resolvers-types.ts',
    ]) {
      expect(existsSync(path.join(sub, f))).toBe(true);
    }
    expect(readFileSync(path.join(sub, '__generated__/resolvers-types.ts'), 'utf8')).toMatch(/export type ParkingPermitsRecordResolvers/);
    expect(readFileSync(path.join(sub, 'README.md'), 'utf8')).toContain(OWNER);
    const yaml = YAML.parse(readFileSync(path.join(copy, 'schema/supergraph.yaml'), 'utf8'));
    expect(yaml.subgraphs[NAME]).toEqual({ routing_url: 'http://127.0.0.1:4005/graphql', owner: OWNER, schema: { file: `./${NAME}.graphql` } });
    expect(readFileSync(path.join(copy, '.github/CODEOWNERS'), 'utf8')).toMatch(new RegExp(`^/subgraphs/${NAME}/ @city-graph/${NAME}-team$`, 'm'));
    const startup = readFileSync(path.join(copy, 'scripts/subgraphs.ts'), 'utf8');
    expect(startup).toContain(`import { subgraph as parkingPermits } from '../subgraphs/${NAME}';`);
    expect(startup).toMatch(/SUBGRAPHS: SubgraphModule\[\] = \[[^\]]*parkingPermits\]/);
    expect(readFileSync(path.join(copy, 'schema/supergraph.graphql'), 'utf8')).toMatch(/PARKING_PERMITS @join__graph\(name: "parking-permits", url: "http:\/\/127.0.0.1:4005\/graphql"\)/);
    expect(readFileSync(path.join(copy, 'schema/contracts/public.graphql'), 'utf8')).toMatch(/parkingPermitsRecordCount: Int!/);
  });

  it('passes the schema check in the copy (composes, generated files up to date)', async () => {
    const { runSchemaCheck } = await import(path.join(copy, 'schema/checks.ts'));
    const res = await runSchemaCheck({ schemaDir: path.join(copy, 'schema') });
    expect(res.errors).toEqual([]);
    expect(res.notes.join('\n')).toMatch(/generated files up to date/);
  });

  it("passes its own generated tests (jest in the copy)", async () => {
    const res = await run(process.execPath, [path.join(ROOT, 'node_modules/jest/bin/jest.js'), '--ci', `subgraphs/${NAME}`], {
      cwd: copy,
      env: { ...process.env, APOLLO_TELEMETRY_DISABLED: '1' },
    }).catch((e: { stdout: string; stderr: string }) => e);
    expect(res.stderr).toMatch(/Tests:\s+6 passed, 6 total/);
  }, 180_000);

  describe('through a real gateway', () => {
    // Everything from the copy's paths, so one set of module instances is used.
    const req = (p: string) => require(path.join(copy, p));
    let engine: { uri: string; stop(): Promise<void> };
    let running: { url: string; close(): Promise<void> }[] = [];
    let gw: { url: string; close(): Promise<void> };
    let gql: (url: string, q: string, v?: Record<string, unknown>) => Promise<{ data?: any; errors?: unknown[] }>;

    beforeAll(async () => {
      const helpers = req('test/helpers/subgraph.ts');
      gql = helpers.gql;
      engine = await helpers.startTestDatabase();
      const properties = await helpers.startSubgraph(req('subgraphs/properties').subgraph, engine.uri);
      const scaffolded = await helpers.startSubgraph(req(`subgraphs/${NAME}`).subgraph, engine.uri);
      running = [properties, scaffolded];
      const { createGatewayServer } = req('gateway/server.ts');
      const { createLogger } = req('lib/logger.ts');
      gw = await createGatewayServer({
        supergraphPath: path.join(copy, 'schema/supergraph.graphql'),
        watchSupergraph: false,
        subgraphUrls: { properties: properties.url, [NAME]: scaffolded.url },
        logger: createLogger('gateway', 'silent'),
      }).listen(0);
    }, 120_000);

    afterAll(async () => {
      await gw?.close();
      for (const r of running) await r.close();
      await engine?.stop();
    });

    it('is in the start-up list that `npm start` runs', () => {
      const { SUBGRAPHS } = req('scripts/subgraphs.ts');
      expect(SUBGRAPHS.map((s: { name: string }) => s.name)).toContain(NAME);
    });

    it('answers an _entities query for Community and its own entity', async () => {
      const res = await gql(
        running[1].url,
        `query($r: [_Any!]!) { _entities(representations: $r) { ... on Community { id parkingPermitsRecordCount } ... on ParkingPermitsRecord { id name } } }`,
        { r: [{ __typename: 'Community', id: 'cm_320104_0001' }, { __typename: 'ParkingPermitsRecord', id: 'parking_permits_3' }] },
      );
      expect(res.errors).toBeUndefined();
      expect(res.data!._entities).toEqual([
        { id: 'cm_320104_0001', parkingPermitsRecordCount: 2 },
        { id: 'parking_permits_3', name: 'parking-permits record 3' },
      ]);
    });

    it('joins properties → new subgraph → properties in one gateway query', async () => {
      const res = await gql(
        gw.url,
        `{ community(id: "cm_320104_0001") { name parkingPermitsRecordCount parkingPermitsRecords { id community { name } } } }`,
      );
      expect(res.errors).toBeUndefined();
      expect(res.data!.community).toEqual({
        name: '瑞金新村',
        parkingPermitsRecordCount: 2,
        parkingPermitsRecords: [
          { id: 'parking_permits_1', community: { name: '瑞金新村' } },
          { id: 'parking_permits_2', community: { name: '瑞金新村' } },
        ],
      });
    });

    it('serves its root fields through the gateway, joined to properties', async () => {
      const res = await gql(gw.url, `{ parkingPermitsRecords(communityId: "cm_320113_0001") { name community { name buildingCount } } }`);
      expect(res.errors).toBeUndefined();
      expect(res.data!.parkingPermitsRecords).toEqual([{ name: 'parking-permits record 3', community: { name: '怡江苑', buildingCount: 32 } }]);
    });
  });

  describe('argument validation', () => {
    const plan = (argv: string[]) => planSubgraph(copy, parseArgs(argv));
    const refused = (argv: string[]) => {
      try {
        plan(argv);
      } catch (e) {
        expect(e).toBeInstanceOf(UsageError);
        return (e as Error).message;
      }
      throw new Error('accepted');
    };

    it('refuses bad names, existing subgraphs, taken ports and a missing owner', () => {
      expect(refused(['--name', 'Parking_Permits', '--owner', 'x'])).toMatch(/--name "Parking_Permits" is invalid: use lowercase letters, digits and single hyphens/);
      expect(refused(['--name', '9lives', '--owner', 'x'])).toMatch(/is invalid/);
      expect(refused(['--name', 'properties', '--owner', 'x'])).toMatch(/subgraph "properties" already exists in schema\/supergraph.yaml/);
      expect(refused(['--name', NAME, '--owner', 'x'])).toMatch(/already exists/);
      expect(refused(['--name', 'waste', '--owner', 'x', '--port', '4001'])).toMatch(/port 4001 is already used by subgraph "properties"/);
      expect(refused(['--name', 'waste', '--owner', 'x', '--port', '80'])).toMatch(/--port must be an integer between 1024 and 65535/);
      expect(refused(['--name', 'waste'])).toMatch(/--owner is required/);
      expect(refused(['--name', 'waste', '--owner', 'x', '--colour', 'red'])).toMatch(/unknown argument "--colour"/);
    });

    it('plans the next free port when none is given', () => {
      expect(plan(['--name', 'waste', '--owner', '城管局']).names.port).toBe(4006);
    });

    it('exits 2 with the message on the command line', async () => {
      const res = await run(process.execPath, [path.join(ROOT, 'node_modules/tsx/dist/cli.mjs'), 'scripts/subgraph-new.ts', '--name', 'Bad Name', '--owner', 'x'], {
        cwd: copy,
      }).catch((e: { code: number; stderr: string }) => e);
      expect((res as { code: number }).code).toBe(2);
      expect((res as { stderr: string }).stderr).toMatch(/^subgraph:new: --name "Bad Name" is invalid/);
    }, 60_000);
  });
});
