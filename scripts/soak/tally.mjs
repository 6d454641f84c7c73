// What the soak counts: every answer by operation and status, and every answer that was not
// the one expected (with a few examples kept for the report).

export function createTally() {
  const byOp = {};
  const byStatus = {};
  const failures = [];
  let failureCount = 0;
  return {
    byOp,
    byStatus,
    failures,
    get failureCount() {
      return failureCount;
    },
    rows: { submitted: 0, returned: 0, verified: 0, rowErrorsExpected: 0 },
    jobs: { submitted: 0, ended: 0, byStatus: {}, announced: 0 },
    /** One HTTP answer (status 0: no answer at all). */
    answer(op, status) {
      const o = (byOp[op] ??= { requests: 0, statuses: {} });
      o.requests += 1;
      o.statuses[status] = (o.statuses[status] ?? 0) + 1;
      byStatus[status] = (byStatus[status] ?? 0) + 1;
    },
    /** An answer that was not what the platform should have said (a few kept per operation). */
    fail(op, message) {
      failureCount += 1;
      if (failures.filter((f) => f.op === op).length < 5) failures.push({ op, message: message.slice(0, 500) });
    },
    get requests() {
      return Object.values(byStatus).reduce((a, b) => a + b, 0);
    },
    get serverErrors() {
      return Object.entries(byStatus)
        .filter(([s]) => Number(s) >= 500 || Number(s) === 0)
        .reduce((a, [, n]) => a + n, 0);
    },
  };
}
