// Builds the console into host/console/dist, which is committed and
// embedded in the Go binary. Reproducible: the same sources and lockfile
// give the same bytes. dist/BUILD_HASH records the hash of the sources
// (see sourceHash); host/console's TestDistIsFresh recomputes it.
import { createHash } from 'node:crypto';
import { readFileSync, readdirSync, rmSync, mkdirSync, writeFileSync, copyFileSync, statSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';

const web = fileURLToPath(new URL('.', import.meta.url));
const out = join(web, '..', 'host', 'console', 'dist');

// The inputs of the build, as paths relative to web/ with forward slashes.
// Keep in step with sourceFiles in host/console/fresh_test.go.
function sourceFiles() {
  const files = ['build.mjs', 'package.json', 'package-lock.json'];
  const walk = (dir) => {
    for (const name of readdirSync(dir)) {
      const p = join(dir, name);
      if (statSync(p).isDirectory()) walk(p);
      else files.push(relative(web, p).split(sep).join('/'));
    }
  };
  walk(join(web, 'src'));
  return files.sort();
}

// sha256 over "sha256(content)  path\n" lines in byte order of path, the
// same as `sha256sum $(files) | sha256sum`.
export function sourceHash() {
  const lines = sourceFiles().map((f) => createHash('sha256').update(readFileSync(join(web, f))).digest('hex') + '  ' + f + '\n');
  return createHash('sha256').update(lines.join('')).digest('hex');
}

rmSync(out, { recursive: true, force: true });
mkdirSync(join(out, 'assets'), { recursive: true });
await esbuild.build({
  entryPoints: { app: join(web, 'src', 'main.ts'), style: join(web, 'src', 'style.css') },
  outdir: join(out, 'assets'),
  bundle: true,
  minify: true,
  format: 'esm',
  target: ['es2020'],
  legalComments: 'eof',
  sourcemap: false,
  logLevel: 'warning',
});
copyFileSync(join(web, 'src', 'index.html'), join(out, 'index.html'));
const hash = sourceHash();
writeFileSync(join(out, 'BUILD_HASH'), hash + '\n');
console.log(`console built into ${relative(process.cwd(), out) || out} (sources ${hash.slice(0, 12)})`);
