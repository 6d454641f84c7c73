import type { BudgetPlan } from './budgets';
import { gcra, type RateDecision } from './gcra';

/*
 * Request budgets decided in the isolate, with no round trip: each budget's GCRA state is kept
 * here and checked locally; what this isolate admitted is reported to the budget's Durable
 * Object after the response (one report in flight per budget), and the object's answer, the
 * budget's global TAT, becomes this isolate's state. So a budget spent anywhere is refused
 * here from the next report on ("exhausted until T" is the TAT itself), and an isolate on its
 * own can never admit more than the limit.
 *
 * Across isolates the count is approximate: between two reports each isolate admits from what
 * it last knew, so a burst spread over many isolates can pass the limit by what they admit in
 * one round trip. Everything admitted is counted, and the overshoot is paid back before the
 * budget admits again. An object that cannot be reached leaves the local decision standing.
 */

export type Report = (plan: BudgetPlan, used: number) => Promise<{ tat: number }>;

interface Budget {
  tat: number | undefined;
  /** Admitted here and not yet reported. */
  unreported: number;
  reporting: boolean;
  lastReport: number;
}

const MAX_BUDGETS = 4096;
/**
 * Reports of one budget are at least this far apart: a busy caller costs its object a few
 * calls a second per isolate, not one per request, and what piles up meanwhile goes in one.
 */
export const REPORT_INTERVAL_MS = 100;

export class LocalBudgets {
  private readonly budgets = new Map<string, Budget>();
  private counters = { reports: 0, failedReports: 0 };

  constructor(private readonly now: () => number = () => Date.now()) {}

  /**
   * Counts one request against `plan` and decides it here. When it is admitted, `report` is the
   * work that tells the budget's object (run it after the response), or undefined when a
   * report is already under way: that one's follow-up carries this request too.
   */
  take(plan: BudgetPlan, report: Report): { decision: RateDecision; reporting?: Promise<void> } {
    const budget = this.budgetOf(plan.key);
    const { decision, tat } = gcra(budget.tat, this.now(), plan.limit, plan.windowSeconds * 1000);
    if (!decision.allowed) return { decision };
    budget.tat = tat;
    budget.unreported += 1;
    if (budget.reporting) return { decision };
    return { decision, reporting: this.reportAll(plan, budget, report) };
  }

  /** What `take` would decide now, counting nothing (a budget only spent on failure). */
  peek(plan: BudgetPlan): RateDecision {
    const budget = this.budgets.get(plan.key);
    return gcra(budget?.tat, this.now(), plan.limit, plan.windowSeconds * 1000).decision;
  }

  stats(): { budgets: number; reports: number; failedReports: number; unsettled: number } {
    let unsettled = 0;
    for (const budget of this.budgets.values()) if (budget.reporting || budget.unreported > 0) unsettled += 1;
    return { budgets: this.budgets.size, ...this.counters, unsettled };
  }

  private budgetOf(key: string): Budget {
    let budget = this.budgets.get(key);
    if (budget) {
      this.budgets.delete(key);
    } else {
      budget = { tat: undefined, unreported: 0, reporting: false, lastReport: 0 };
      if (this.budgets.size >= MAX_BUDGETS) this.budgets.delete(this.budgets.keys().next().value!);
    }
    this.budgets.set(key, budget);
    return budget;
  }

  /** Reports until nothing admitted here is left unreported. */
  private async reportAll(plan: BudgetPlan, budget: Budget, report: Report): Promise<void> {
    budget.reporting = true;
    try {
      while (budget.unreported > 0) {
        const wait = budget.lastReport + REPORT_INTERVAL_MS - this.now();
        if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
        budget.lastReport = this.now();
        const used = budget.unreported;
        budget.unreported = 0;
        this.counters.reports += 1;
        let global: { tat: number };
        try {
          global = await report(plan, used);
        } catch (err) {
          // Counted again with the next report; the local decisions stand meanwhile.
          budget.unreported += used;
          this.counters.failedReports += 1;
          throw err;
        }
        // What the object knows, plus what this isolate admitted while it asked.
        const interval = (plan.windowSeconds * 1000) / plan.limit;
        const known = global.tat + budget.unreported * interval;
        budget.tat = Math.max(budget.tat ?? known, known);
      }
    } finally {
      budget.reporting = false;
    }
  }
}
