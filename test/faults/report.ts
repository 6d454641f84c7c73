import { afterAll, expect } from 'vitest';
import { serverErrors } from './drive';
import { made } from './faulty-env';

/*
 * After a file: what was injected, per binding, and which server errors were answered. A 500
 * answered to a fault fails the file: every outage of a store must come out as a clear 503.
 * The summary is printed (vitest --silent=false shows it) for the figures.
 */
export function reportFaults(file: string): void {
  afterAll(() => {
    const injected: Record<string, number> = {};
    let scenarios = 0;
    for (const faults of made) {
      const summary = faults.summary();
      if (Object.keys(summary).length > 0) scenarios += 1;
      for (const [binding, n] of Object.entries(summary)) injected[binding] = (injected[binding] ?? 0) + n;
    }
    const errors = Object.fromEntries(serverErrors);
    console.log(JSON.stringify({ fault_report: file, scenarios, injected, server_errors: errors }));
    expect(Object.keys(errors).filter((k) => k.startsWith('500'))).toEqual([]);
  });
}
