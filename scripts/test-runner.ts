/**
 * One backend's pass of `npm test` (started by scripts/test.ts with the backend's environment):
 * node's test runner, used through `run()` because the command line (`node --test a b c`) sorts
 * the files it is given. Here they run in the order given, so the few long files start first and
 * overlap with the many short ones instead of running alone at the end of the pass (CI time).
 *
 * Arguments: `<tap file> <concurrency> <file>…`. Reports in the spec format on stdout and in TAP
 * to the file; exits 1 if any test failed or a file could not run.
 */
import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { run } from 'node:test';
import { spec, tap } from 'node:test/reporters';

const [tapFile, concurrency, ...files] = process.argv.slice(2);
if (!tapFile || !concurrency || files.length === 0) {
  console.error('usage: test-runner.ts <tap file> <concurrency> <file>…');
  process.exit(2);
}
const root = path.resolve(import.meta.dirname, '..');

let failed = false;
const stream = run({
  files: files.map((f) => path.resolve(root, f)),
  concurrency: Number(concurrency),
  // A test that hangs fails after 5 minutes. (forceExit is not used: it can end the run before
  // every file has reported, and tests would go missing unnoticed.)
  timeout: 300_000,
  // Ends a file whose tests are done but whose process stays alive (test/helpers/exit-guard.ts).
  execArgv: ['--import', pathToFileURL(path.join(root, 'test', 'helpers', 'exit-guard.ts')).href],
});
stream.on('test:fail', () => {
  failed = true;
});
stream.compose(spec).pipe(process.stdout);
const tapOut = fs.createWriteStream(tapFile);
stream.compose(tap).pipe(tapOut);
stream.on('end', () => {
  tapOut.end(() => process.exit(failed ? 1 : 0));
});
