/** Ends a test run with one plain line, "N passed, N failed", that any CI log reader understands. */
import type { Reporter, TestModule } from 'vitest/node';

export default class SummaryLineReporter implements Reporter {
  private line = '';

  onTestRunEnd(testModules: ReadonlyArray<TestModule>): void {
    let passed = 0;
    let failed = 0;
    let skipped = 0;
    for (const module of testModules) {
      for (const test of module.children.allTests()) {
        const state = test.result().state;
        if (state === 'passed') passed++;
        else if (state === 'failed') failed++;
        else skipped++;
      }
    }
    this.line = `${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`;
  }

  // Written at exit, after the default reporter's own summary, so it is the last line of the run.
  onInit(): void {
    process.once('exit', () => {
      if (this.line) process.stdout.write(`\n${this.line}\n`);
    });
  }
}
