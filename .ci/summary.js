// Prints the closing line CI reads ("tests: N passed, N failed") from Vitest's JSON report.
'use strict';
const fs = require('node:fs');
const file = process.argv[2];
try {
  const report = JSON.parse(fs.readFileSync(file, 'utf8'));
  const skipped = (report.numPendingTests || 0) + (report.numTodoTests || 0);
  console.log(`tests: ${report.numPassedTests} passed, ${report.numFailedTests} failed${skipped ? `, ${skipped} skipped` : ''}`);
} catch {
  console.log('tests: 0 passed, 1 failed');
}
