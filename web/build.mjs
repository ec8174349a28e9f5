// Bundles the UI with esbuild: src/main.js and src/style.css become
// content-hashed files under <outdir>/assets (cached for a year by the
// daemon), and index.html (never cached) names them. No inline script or
// style, so the daemon's Content-Security-Policy can forbid both.
//   node build.mjs [--outdir DIR] [--dev]      (default outdir: dist)
import * as esbuild from 'esbuild';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
const outIdx = args.indexOf('--outdir');
const outdir = path.resolve(outIdx >= 0 ? args[outIdx + 1] : path.join(here, 'dist'));
const dev = args.includes('--dev');

rmSync(outdir, { recursive: true, force: true });
mkdirSync(path.join(outdir, 'assets'), { recursive: true });

const result = await esbuild.build({
  entryPoints: { app: path.join(here, 'src/main.js'), style: path.join(here, 'src/style.css') },
  bundle: true,
  format: 'esm',
  target: ['chrome100', 'firefox100', 'safari15'],
  minify: !dev,
  sourcemap: dev ? 'linked' : false,
  outdir: path.join(outdir, 'assets'),
  entryNames: '[name]-[hash]',
  metafile: true,
  legalComments: 'none',
  logLevel: 'warning',
});

const outputs = Object.keys(result.metafile.outputs).map((p) => path.basename(p));
const js = outputs.find((f) => f.startsWith('app-') && f.endsWith('.js'));
const css = outputs.find((f) => f.startsWith('style-') && f.endsWith('.css'));
if (!js || !css) throw new Error(`build.mjs: esbuild produced no app/style bundle: ${outputs}`);

writeFileSync(path.join(outdir, 'index.html'), `<!doctype html>
<html lang="zh-CN">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>approvald 审批</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="/assets/${css}">
<script type="module" src="/assets/${js}"></script>
</head>
<body>
<noscript>approvald 需要启用 JavaScript / approvald needs JavaScript.</noscript>
<div id="app"></div>
</body>
</html>
`);
console.log(`web UI built in ${outdir}: assets/${js}, assets/${css}`);
