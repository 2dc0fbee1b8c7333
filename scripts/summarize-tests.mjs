// Adds up the vitest JSON reports of every workspace into the one closing line CI reads, after
// the ten slowest test files (where the suite's time goes, so it stays inside CI's limit) and
// each failed test with the first line of its failure (CI may keep only the output's end).
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';

const dir = process.argv[2];
let passed = 0;
let failed = 0;
let skipped = 0;
const files = [];
const failures = [];
for (const file of readdirSync(dir).filter((name) => name.endsWith('.json'))) {
  const report = JSON.parse(readFileSync(join(dir, file), 'utf8'));
  passed += report.numPassedTests;
  failed += report.numFailedTests + (report.numFailedTestSuites ?? 0);
  skipped += report.numPendingTests + report.numTodoTests;
  for (const result of report.testResults ?? []) {
    files.push({
      name: relative(process.cwd(), result.name),
      ms: result.endTime - result.startTime,
    });
    for (const test of result.assertionResults ?? []) {
      if (test.status !== 'failed') continue;
      const reason = (test.failureMessages?.[0] ?? '').split('\n')[0].slice(0, 300);
      failures.push(`${relative(process.cwd(), result.name)} > ${test.fullName}: ${reason}`);
    }
    if (result.status === 'failed' && !(result.assertionResults ?? []).length) {
      failures.push(
        `${relative(process.cwd(), result.name)}: ${(result.message ?? '').split('\n')[0]}`,
      );
    }
  }
}
const slowest = files.sort((a, b) => b.ms - a.ms).slice(0, 10);
if (slowest.length) {
  console.log('slowest test files:');
  for (const { name, ms } of slowest)
    console.log(`  ${(ms / 1000).toFixed(0).padStart(5)} s  ${name}`);
}
if (failures.length) {
  console.log('failed:');
  for (const failure of failures) console.log(`  ${failure}`);
}
console.log(`${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
if (passed === 0) process.exitCode = 1;
