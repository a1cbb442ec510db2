/**
 * `npm run bench:import [-- --sizes 4000,40000 --kinds elderly,communities --batch 1000 --profile DIR]`: generates
 * 小区-register and elderly-register workbooks (.xlsx) of each size, imports each into a fresh
 * embedded stack (the article's four 小区 and a 400-小区 synthetic city, seed 42) with the import
 * client straight to the owning subgraph, and prints per run: time, rows per second, the import
 * client's peak RSS and the stack's peak RSS (each in its own process), and the report's totals.
 * Prints figures; asserts nothing.
 */
import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import ExcelJS from 'exceljs';
import { cstDate, now } from '../../lib/clock';
import { disableApolloTelemetry, loadConfig } from '../../lib/config';
import { signLocalToken } from '../../lib/auth/token';
import { runImport } from '../../lib/import/client';
import { kindOf } from '../../lib/import/kinds';
import { startStack } from '../../scripts/stack';

disableApolloTelemetry();
const TSX = require.resolve('tsx/cli');
const SELF = __filename;

interface ServerInfo {
  urls: Record<string, string>;
  communities: string[];
  districts: string[];
}

// ---- child: the stack ----------------------------------------------------------------------------
async function serve() {
  const stack = await startStack({ dbPath: null, logLevel: 'silent', seed: 'always', demoCity: { communities: 400, seed: 42 } });
  const elderly = stack.subgraphs.find((s) => s.name === 'elderly')!.conn;
  const properties = stack.subgraphs.find((s) => s.name === 'properties')!.conn;
  const communities = (await elderly.db!.collection('community_refs').find({}, { projection: { _id: 1 } }).toArray()).map((d) => String(d._id));
  const districts = (await properties.db!.collection('admin_areas').find({ level: 'DISTRICT' }, { projection: { _id: 1 } }).toArray()).map((d) => String(d._id));
  const info: ServerInfo = { urls: Object.fromEntries(stack.subgraphs.map((s) => [s.name, s.url])), communities, districts };
  process.stdout.write(JSON.stringify(info) + '\n');
  // Answers "usage" lines with its CPU time so far (the seed's is left out of the figures); runs
  // until the parent closes stdin, then reports its peak RSS and CPU time.
  const input = createInterface({ input: process.stdin });
  input.on('line', () => {
    const u = process.resourceUsage();
    process.stdout.write(JSON.stringify({ usage: true, cpuMs: (u.userCPUTime + u.systemCPUTime) / 1000 }) + '\n');
  });
  await new Promise((r) => input.once('close', r));
  await stack.stop();
  const u = process.resourceUsage();
  process.stdout.write(JSON.stringify({ maxRssKb: u.maxRSS, cpuMs: (u.userCPUTime + u.systemCPUTime) / 1000 }) + '\n');
  process.exit(0);
}

// ---- child: the import client --------------------------------------------------------------------
async function client(kind: string, file: string, url: string, batch: number, perBatch: boolean) {
  const token = await signLocalToken(loadConfig().auth, { role: 'CITY_ADMIN', subject: 'bench:import', ttl: '2h' } as never);
  const report = await runImport({ kind, file, url, token, batchSize: batch, statisticsPerBatch: perBatch });
  const u = process.resourceUsage();
  process.stdout.write(JSON.stringify({ ...report, rejections: report.rejections.slice(0, 3), maxRssKb: u.maxRSS, cpuMs: (u.userCPUTime + u.systemCPUTime) / 1000 }) + '\n');
}

// ---- parent --------------------------------------------------------------------------------------
const W = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
const idCard = (body: string) => body + '10X98765432'[W.reduce((a, w, i) => a + w * Number(body[i]), 0) % 11];

/** Writes `rows` rows with exceljs's streaming writer (bounded memory). */
async function writeWorkbook(file: string, kindName: string, rows: number, row: (i: number) => unknown[]) {
  const kind = kindOf(kindName);
  const wb = new ExcelJS.stream.xlsx.WorkbookWriter({ filename: file, useSharedStrings: false, useStyles: false });
  const ws = wb.addWorksheet(kind.sheet);
  ws.addRow(kind.columns.map((c) => c.zh)).commit();
  for (let i = 0; i < rows; i++) ws.addRow(row(i)).commit();
  await ws.commit();
  await wb.commit();
}

function generators(info: ServerInfo): Record<string, { subgraph: string; header: string[]; row: (i: number) => unknown[] }> {
  const year = Number(cstDate(now()).slice(0, 4));
  const consent = new Date(Date.UTC(year - 1, 0, 15));
  const comm = kindOf('communities').columns.map((c) => c.field);
  const eld = kindOf('elderly').columns.map((c) => c.field);
  const at = (fields: string[], values: Record<string, unknown>) => fields.map((f) => values[f] ?? null);
  const living = ['独居', '空巢', '与家人同住', '留守'];
  return {
    communities: {
      subgraph: 'properties',
      header: comm,
      row: (i) => {
        const d = info.districts[i % info.districts.length]!;
        return at(comm, {
          id: `cm_${d}_b${String(i).padStart(6, '0')}`, name: `基准小区${i}号`, district: d, builtYear: 1980 + (i % 40), housingType: i % 2 ? '商品房' : '房改房',
          householdCount: 100 + (i % 900), managementMode: i % 5 ? '市场化' : '无物业',
          ...(i % 5 ? { companyName: `基准物业${i % 50}号有限公司`, companyUscc: `91320100BENCH${String(i % 50).padStart(5, '0')}` } : {}),
        });
      },
    },
    elderly: {
      subgraph: 'elderly',
      header: eld,
      row: (i) =>
        at(eld, {
          idCardNumber: idCard(`320706${1925 + Math.floor(i / 1000)}0315${String(i % 1000).padStart(3, '0')}`),
          communityId: info.communities[i % info.communities.length], name: `老人${i}`, phone: `139${String(i).padStart(8, '0')}`, livingArrangement: living[i % 4],
          consentRecordedAt: consent,
        }),
    },
  };
}

function startServer(profileDir?: string): Promise<{ info: ServerInfo; usage: () => Promise<number>; stop: () => Promise<{ maxRssKb: number; cpuMs: number }> }> {
  return new Promise((resolve, reject) => {
    // With --profile, the stack runs under node --cpu-prof (tsx as a loader, so the profile is the
    // stack's own main thread; the embedded engine's worker thread starts without host flags).
    const args = profileDir ? ['--cpu-prof', '--cpu-prof-dir', profileDir, '--import', 'tsx', SELF, '--serve'] : [TSX, SELF, '--serve'];
    const child = spawn(process.execPath, args, { stdio: ['pipe', 'pipe', 'inherit'], env: process.env });
    const lines = createInterface({ input: child.stdout! });
    let info: ServerInfo | null = null;
    let done: ((u: { maxRssKb: number; cpuMs: number }) => void) | null = null;
    let usage: ((cpuMs: number) => void) | null = null;
    lines.on('line', (l) => {
      const msg = JSON.parse(l);
      if (!info) {
        info = msg;
        resolve({
          info: msg,
          usage: () => new Promise<number>((r) => { usage = r; child.stdin!.write('usage\n'); }),
          stop: () => new Promise((r) => { done = r; child.stdin!.end(); }),
        });
      } else if (msg.usage) usage?.(msg.cpuMs);
      else done?.(msg);
    });
    child.once('exit', (code) => { if (!info) reject(new Error(`stack exited with ${code}`)); });
  });
}

function runClient(kind: string, file: string, url: string, batch: number, perBatch: boolean): Promise<Record<string, any>> {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, [TSX, SELF, '--client', kind, file, url, String(batch), String(perBatch)], { env: process.env, maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
      if (err) return reject(new Error(stderr || err.message));
      resolve(JSON.parse(stdout.trim().split('\n').pop()!));
    });
  });
}

async function main() {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: { serve: { type: 'boolean' }, client: { type: 'boolean' }, sizes: { type: 'string', default: '4000,40000' }, kinds: { type: 'string', default: 'communities,elderly' }, batch: { type: 'string', default: '1000' }, profile: { type: 'string' }, 'per-batch': { type: 'boolean' } },
  });
  if (values.serve) return serve();
  if (values.client) return client(positionals[0]!, positionals[1]!, positionals[2]!, Number(positionals[3]), positionals[4] === 'true');

  const dir = mkdtempSync(path.join(os.tmpdir(), 'import-bench-'));
  process.env.JWT_KEY_DIR = path.join(dir, 'keys');
  const sizes = values.sizes!.split(',').map(Number);
  const batch = Number(values.batch);
  const perBatch = values['per-batch'] ?? false;
  console.log(`import bench: batch ${batch}, statistics ${perBatch ? 'after every batch' : 'deferred to one finish call'}, Node ${process.version}, ${os.cpus().length} CPUs, load average ${os.loadavg().map((l) => l.toFixed(1)).join(' ')}; each run on a fresh embedded stack (4 article 小区 + 400 synthetic)`);
  console.log('kind\trows\tseconds\trows/s\tfinish s\tclient CPU s\tstack CPU s\tclient peak RSS MB\tstack peak RSS MB\tinserted\tupdated\tunchanged\trejected');
  try {
    for (const kind of values.kinds!.split(',')) {
      for (const n of sizes) {
        const server = await startServer(values.profile ? path.resolve(values.profile) : undefined);
        const gen = generators(server.info)[kind]!;
        const file = path.join(dir, `${kind}-${n}.xlsx`);
        await writeWorkbook(file, kind, n, gen.row);
        const stackBefore = await server.usage();
        const r = await runClient(kind, file, server.info.urls[gen.subgraph]!, batch, perBatch);
        const stack = await server.stop();
        const s = r.elapsedMs / 1000;
        const finish = r.statistics ? (r.statistics.elapsedMs / 1000).toFixed(1) : '-';
        console.log([kind, n, s.toFixed(1), Math.round(n / s), finish, (r.cpuMs / 1000).toFixed(1), ((stack.cpuMs - stackBefore) / 1000).toFixed(1), (r.maxRssKb / 1024).toFixed(0), (stack.maxRssKb / 1024).toFixed(0), r.inserted, r.updated, r.unchanged, r.rejected].join('\t'));
        if (r.rejected) console.log('  first rejections:', JSON.stringify(r.rejections));
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
