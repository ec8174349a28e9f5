// Summarises the runs bench/run-engine-bench.sh collected: the medians of the
// engine's Google Benchmark JSON files and of the XState runner's JSON lines,
// per flow mix, and the engine/XState ratio. Prints a table on stdout and
// writes the whole summary as JSON to the path given.
//
//   node summarize.mjs OUT.json MACHINE.json ENGINE_1.json ... -- XSTATE_1.jsonl ...
import { readFileSync, writeFileSync } from 'node:fs';
import process from 'node:process';

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const n = s.length;
  if (n === 0) return NaN;
  return n % 2 ? s[(n - 1) / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
}

// One sample per benchmark per run: { mix: { steps, flows, cpu_steps, us_per_step } }.
function engineSamples(file) {
  const doc = JSON.parse(readFileSync(file, 'utf8'));
  const out = {};
  for (const b of doc.benchmarks) {
    if (b.run_type !== 'iteration' || b.error_occurred) continue;
    const m = /^BM_ExpenseDualLine\/([a-z]+)/.exec(b.name);
    if (!m) continue;
    out[m[1]] = {
      steps_per_second: b.steps,
      flows_per_second: b.flows,
      // The rates are per wall-clock second; per CPU second they scale by real/cpu.
      cpu_steps_per_second: (b.steps * b.real_time) / b.cpu_time,
      steps_per_flow: b.steps_per_flow,
      events_per_flow: b.events_per_flow,
    };
  }
  return out;
}

function xstateSamples(file) {
  const out = {};
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    if (!line.trim()) continue;
    const r = JSON.parse(line);
    const mix = r.name.replace(/^xstate\//, '');
    out[mix] = {
      steps_per_second: r.steps_per_second,
      flows_per_second: r.flows_per_second,
      cpu_steps_per_second: (r.steps_per_second * r.wall_seconds) / r.cpu_seconds,
      steps_per_flow: r.steps_per_flow,
      events_per_flow: r.events_per_flow,
      xstate_version: r.xstate_version,
      node_version: r.node_version,
    };
  }
  return out;
}

function collect(samples) {
  const byMix = {};
  for (const s of samples) {
    for (const [mix, v] of Object.entries(s)) (byMix[mix] ??= []).push(v);
  }
  const res = {};
  for (const [mix, vs] of Object.entries(byMix)) {
    res[mix] = {
      runs: vs.length,
      steps_per_second: median(vs.map((v) => v.steps_per_second)),
      flows_per_second: median(vs.map((v) => v.flows_per_second)),
      cpu_steps_per_second: median(vs.map((v) => v.cpu_steps_per_second)),
      steps_per_second_all: vs.map((v) => Math.round(v.steps_per_second)),
      steps_per_flow: vs[0].steps_per_flow,
      events_per_flow: vs[0].events_per_flow,
    };
    if (vs[0].xstate_version) {
      res[mix].xstate_version = vs[0].xstate_version;
      res[mix].node_version = vs[0].node_version;
    }
  }
  return res;
}

function fail(message) {
  process.stderr.write(`summarize: ${message}\n`);
  process.exit(1);
}

function main() {
  const [outFile, machineFile, ...rest] = process.argv.slice(2);
  const sep = rest.indexOf('--');
  if (!outFile || !machineFile || sep < 0) {
    process.stderr.write('usage: node summarize.mjs OUT.json MACHINE.json ENGINE.json... -- XSTATE.jsonl...\n');
    process.exit(2);
  }
  const engine = collect(rest.slice(0, sep).map(engineSamples));
  const xstate = collect(rest.slice(sep + 1).map(xstateSamples));
  const mixes = new Set([...Object.keys(engine), ...Object.keys(xstate)]);
  if (mixes.size === 0) fail('no benchmark results to summarise');
  for (const mix of mixes) {
    if (!engine[mix] || !xstate[mix]) fail(`'${mix}' was measured on one side only (did a run fail?)`);
  }
  const machine = JSON.parse(readFileSync(machineFile, 'utf8'));
  const ratios = {};
  for (const mix of Object.keys(engine)) {
    if (!xstate[mix]) continue;
    ratios[mix] = {
      steps: engine[mix].steps_per_second / xstate[mix].steps_per_second,
      cpu_steps: engine[mix].cpu_steps_per_second / xstate[mix].cpu_steps_per_second,
    };
  }
  const summary = { machine, engine, xstate, ratio: ratios, target_ratio: 5 };
  writeFileSync(outFile, JSON.stringify(summary, null, 2) + '\n');

  const fmt = (x) => Math.round(x).toLocaleString('en-US');
  const lines = [];
  lines.push('mix     side    runs  steps/s (median)  flows/s (median)  steps/s per CPU-s  all runs (steps/s)');
  for (const mix of ['mixed', 'small', 'large']) {
    for (const [side, r] of [['engine', engine[mix]], ['xstate', xstate[mix]]]) {
      if (!r) continue;
      lines.push(`${mix.padEnd(7)} ${side.padEnd(7)} ${String(r.runs).padStart(4)}  ${fmt(r.steps_per_second).padStart(16)}  ` +
        `${fmt(r.flows_per_second).padStart(16)}  ${fmt(r.cpu_steps_per_second).padStart(17)}  ${r.steps_per_second_all.join(' ')}`);
    }
    if (ratios[mix]) {
      lines.push(`${mix.padEnd(7)} ratio   engine/xstate = ${ratios[mix].steps.toFixed(1)}x (wall)  ${ratios[mix].cpu_steps.toFixed(1)}x (CPU)`);
    }
  }
  const head = ratios.mixed ? ratios.mixed.steps : NaN;
  lines.push('');
  lines.push(`RESULT engine_steps_per_s=${Math.round(engine.mixed?.steps_per_second)} ` +
    `xstate_steps_per_s=${Math.round(xstate.mixed?.steps_per_second)} ratio=${head.toFixed(1)} ` +
    `target=5 ${head >= 5 ? 'MET' : 'NOT MET'}`);
  process.stdout.write(lines.join('\n') + '\n');
}

main();
