// Drives the XState model of the dual-line expense reimbursement with the
// same commands bench/engine_bench.cc sends to the engine, and prints one
// JSON object per benchmark on stdout (one line each).
//
//   node run.mjs [--mix=mixed|small|large|all] [--min-time=SECONDS] [--warmup=SECONDS]
//                [--root=SOURCE_TREE]
//
// One step is one accepted event (SUBMIT, APPROVE, COMPLETE) taking a fresh
// actor (createActor(machine).start()) from draft to `approved`; the flows
// and their people are those of the engine benchmark:
//   small  3,560.00 yuan, office supplies: 6 steps
//   large  150,000.00 yuan with a 三重一大 decision reference: 7 steps
//          (the head of unit approves)
//   mixed  one of each per iteration: 13 steps, 2 flows (the headline)
// Before timing, each flow is run once and every step is checked to have been
// accepted (a history entry per command) and the actor to end `approved`
// having passed every node the engine passes. Timing: a warm-up (6,000 flows
// and at least --warmup seconds, so V8 has optimised the hot paths as in a
// long-running service), then whole iterations until at least --min-time
// seconds of wall-clock time have passed.
// Rates are per wall-clock second; cpu_seconds is the process's CPU time
// (it includes V8's helper threads) over the same interval.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import process from 'node:process';
import { fileURLToPath } from 'node:url';

import { createActor } from 'xstate';
import { parse } from 'yaml';

import { expenseMachine, indexOrg } from './expense-machine.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const WARMUP_FLOWS = 6000;

function parseArgs(argv) {
  const opts = { mix: 'mixed', minTime: 1.0, warmup: 0.5, root: process.env.APPROVAL_ROOT || path.resolve(here, '../..') };
  for (const a of argv) {
    const m = /^--([a-z-]+)=(.*)$/.exec(a);
    if (!m) throw new Error(`unknown argument '${a}' (see the header of run.mjs)`);
    const [, key, value] = m;
    if (key === 'mix') opts.mix = value;
    else if (key === 'min-time') opts.minTime = Number(value);
    else if (key === 'warmup') opts.warmup = Number(value);
    else if (key === 'root') opts.root = value;
    else throw new Error(`unknown option --${key} (see the header of run.mjs)`);
  }
  if (!['mixed', 'small', 'large', 'all'].includes(opts.mix)) throw new Error(`--mix must be mixed, small, large or all`);
  if (!(opts.minTime > 0) || !(opts.warmup >= 0)) throw new Error('--min-time must be > 0 and --warmup >= 0');
  return opts;
}

const yuan = (text) => {
  const [int, frac = ''] = text.split('.');
  return Number(int) * 100 + Number((frac + '00').slice(0, 2));
};
const invoice = (number, amount) => ({ number, amount: yuan(amount), file: 'sha256:' + number.padStart(64, '0') });

// The same commands, people and forms as bench/engine_bench.cc.
function smallFlow() {
  return {
    name: 'small',
    mustPass: ['dept_head_review', 'dept_deputy_review', 'invoice_check', 'finance_review',
      'finance_deputy_review', 'standard_check', 'amount_route', 'pay'],
    steps: [
      { type: 'SUBMIT', actor: 'xu_lei', form: {
        purpose: '园林室打印耗材', category: 'office', amount: yuan('3560.00'), spent_on: '2024-01-05',
        invoices: [invoice('44000241100012345', '2100.00'), invoice('44000241100012346', '1460.00')] } },
      { type: 'APPROVE', actor: 'yang_fan', node: 'dept_head_review', comment: '属实' },
      { type: 'APPROVE', actor: 'zheng_li', node: 'finance_review', comment: '票据齐全，同意' },
      { type: 'APPROVE', actor: 'liu_guoqiang', node: 'dept_deputy_review', comment: '同意' },
      { type: 'APPROVE', actor: 'wang_haiyan', node: 'finance_deputy_review', comment: '同意' },
      { type: 'COMPLETE', actor: 'sun_yue', node: 'pay', data: { voucher_no: '记-2024-0107' } },
    ],
  };
}

function largeFlow() {
  return {
    name: 'large',
    mustPass: ['dept_head_review', 'dept_deputy_review', 'invoice_check', 'finance_review',
      'finance_deputy_review', 'standard_check', 'amount_route', 'head_review', 'pay'],
    steps: [
      { type: 'SUBMIT', actor: 'hu_bin', form: {
        purpose: '苗圃灌溉设备维修', category: 'other', amount: yuan('150000.00'), spent_on: '2024-01-04',
        invoices: [invoice('44000241100020001', '90000.00'), invoice('44000241100020002', '60000.00')],
        decision_ref: '园林〔2024〕3号' } },
      { type: 'APPROVE', actor: 'zhu_qiang', node: 'dept_head_review', comment: '属实' },
      { type: 'APPROVE', actor: 'zheng_li', node: 'finance_review', comment: '票据齐全，同意' },
      { type: 'APPROVE', actor: 'zhao_min', node: 'dept_deputy_review', comment: '同意' },
      { type: 'APPROVE', actor: 'wang_haiyan', node: 'finance_deputy_review', comment: '同意' },
      { type: 'APPROVE', actor: 'chen_zhiyuan', node: 'head_review', comment: '经集体决策，同意支付' },
      { type: 'COMPLETE', actor: 'sun_yue', node: 'pay', data: { voucher_no: '记-2024-0108' } },
    ],
  };
}

function makeInput(root) {
  const orgDoc = parse(readFileSync(path.join(root, 'config/org.yaml'), 'utf8'));
  const invoiceNumbers = new Set();
  for (let i = 0; i < 20; ++i) invoiceNumbers.add('4400024110000' + String(1000 + i));
  return {
    org: indexOrg(orgDoc),
    facts: { invoiceNumbers },
    config: { expenseStandards: { office: { limit: yuan('20000.00') }, other: { limit: yuan('500000.00') } } },
    now: Date.parse('2024-01-08T09:00:00+08:00'),
  };
}

// Runs one flow with every step checked; throws what went wrong.
function runChecked(input, flow) {
  const actor = createActor(expenseMachine, { input }).start();
  flow.steps.forEach((ev, i) => {
    const before = actor.getSnapshot().context.acts.length + (actor.getSnapshot().context.submitter ? 1 : 0);
    actor.send(ev);
    const snap = actor.getSnapshot();
    const after = snap.context.acts.length + (snap.context.submitter ? 1 : 0);
    if (after !== before + 1) throw new Error(`${flow.name} step ${i + 1} (${ev.type} by ${ev.actor}) was not accepted; state ${JSON.stringify(snap.value)}`);
  });
  const snap = actor.getSnapshot();
  if (snap.status !== 'done' || snap.value !== 'approved') throw new Error(`${flow.name}: ended ${JSON.stringify(snap.value)}, not approved`);
  const passed = new Set();
  for (const h of snap.context.history) {
    if (['approve', 'complete', 'check_completed', 'routed'].includes(h.type)) passed.add(h.node);
  }
  for (const node of flow.mustPass) if (!passed.has(node)) throw new Error(`${flow.name}: never passed node ${node}`);
  return snap.context.history.length;
}

// The timed body, mirroring RunFlow() in engine_bench.cc.
function runFlow(input, flow) {
  const actor = createActor(expenseMachine, { input }).start();
  const steps = flow.steps;
  for (let i = 0; i < steps.length; ++i) actor.send(steps[i]);
  const snap = actor.getSnapshot();
  if (snap.value !== 'approved') throw new Error(`${flow.name} did not end approved: ${JSON.stringify(snap.value)}`);
}

// Runs `iterate` for at least `seconds` and at least `count` times.
function warmUp(iterate, seconds, count) {
  const end = process.hrtime.bigint() + BigInt(Math.round(seconds * 1e9));
  for (let i = 0; i < count || process.hrtime.bigint() < end; ++i) iterate();
}

function measure(name, flows, input, opts) {
  const stepsPerIter = flows.reduce((n, f) => n + f.steps.length, 0);
  const iterate = () => { for (const f of flows) runFlow(input, f); };
  warmUp(iterate, 0.2, 200);

  const minNs = BigInt(Math.round(opts.minTime * 1e9));
  let iterations = 0;
  let batch = 16;
  const cpu0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  let elapsed = 0n;
  // Batches grow while one takes under 5% of the minimum time, so the clock
  // is read rarely and the run overshoots --min-time by little.
  while (elapsed < minNs) {
    const b0 = process.hrtime.bigint();
    for (let i = 0; i < batch; ++i) iterate();
    iterations += batch;
    const now = process.hrtime.bigint();
    elapsed = now - t0;
    if ((now - b0) * 20n < minNs) batch *= 2;
  }
  const cpu = process.cpuUsage(cpu0);
  const wall = Number(elapsed) / 1e9;
  const cpuSeconds = (cpu.user + cpu.system) / 1e6;
  return {
    name: `xstate/${name}`,
    iterations,
    wall_seconds: wall,
    cpu_seconds: cpuSeconds,
    steps_per_flow: stepsPerIter / flows.length,
    events_per_flow: flows.reduce((n, f) => n + f.historyLength, 0) / flows.length,
    steps_per_second: (iterations * stepsPerIter) / wall,
    flows_per_second: (iterations * flows.length) / wall,
    us_per_iteration: (wall * 1e6) / iterations,
  };
}

function main() {
  const opts = parseArgs(process.argv.slice(2));
  const input = makeInput(opts.root);
  const small = smallFlow();
  const large = largeFlow();
  for (const f of [small, large]) f.historyLength = runChecked(input, f);

  const require = createRequire(import.meta.url);
  const xstateVersion = JSON.parse(readFileSync(require.resolve('xstate/package.json'), 'utf8')).version;
  const plans = { mixed: [['mixed', [small, large]]], small: [['small', [small]]], large: [['large', [large]]] };
  plans.all = [...plans.mixed, ...plans.small, ...plans.large];
  // V8 needs a few thousand flows before its optimising compiler has done the
  // hot paths (measured: a cold process runs several times slower for its
  // first ~2,000 flows); the engine, compiled ahead of time, needs none. So
  // every flow shape is run WARMUP_FLOWS times, and at least --warmup
  // seconds, before anything is timed.
  warmUp(() => { runFlow(input, small); runFlow(input, large); }, opts.warmup, WARMUP_FLOWS / 2);
  for (const [name, flows] of plans[opts.mix]) {
    const r = measure(name, flows, input, opts);
    process.stdout.write(JSON.stringify({ ...r, xstate_version: xstateVersion, node_version: process.version }) + '\n');
  }
}

try {
  main();
} catch (e) {
  process.stderr.write(`xstate bench: ${e.message}\n`);
  process.exit(1);
}
