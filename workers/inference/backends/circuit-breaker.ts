import { unavailable } from '../../core/errors';

/*
 * A circuit per backend (the runner instance, the remote server), per isolate: after a run of
 * failures calls fail at once for a while instead of each waiting out a timeout; then one call
 * is let through, and its outcome closes the circuit or opens it again. Only the backend's own
 * failures count (no answer, a timeout, 5xx, an unreadable answer), never a refused input.
 */

interface Circuit {
  /** The backend's name, for readiness. */
  name: string;
  failures: number;
  /** Until when calls are refused (0: closed). */
  openUntil: number;
  /** A trial call is out while half open. */
  trial: boolean;
  lastError: string;
}

export class CircuitBreakers {
  private readonly circuits = new Map<string, Circuit>();

  constructor(
    private readonly threshold: number,
    private readonly openMs: number,
    private readonly now: () => number = () => Date.now(),
  ) {}

  /** Throws backend_unavailable while the circuit is open; lets one trial call through after. */
  admit(key: string, name: string): void {
    const circuit = this.circuits.get(key);
    if (!circuit || circuit.openUntil === 0) return;
    const now = this.now();
    if (now >= circuit.openUntil && !circuit.trial) {
      circuit.trial = true;
      return;
    }
    const seconds = Math.max(1, Math.ceil((circuit.openUntil - now) / 1000));
    throw unavailable(
      `${name} is not answering (${circuit.failures} failed calls in a row, the last: ${circuit.lastError}); calls are refused for ${seconds} s more before one is tried again`,
      { code: 'backend_unavailable', details: { backend: name } },
    );
  }

  succeeded(key: string): void {
    this.circuits.delete(key);
  }

  failed(key: string, reason: string, name = key): void {
    const circuit = this.circuits.get(key) ?? { name, failures: 0, openUntil: 0, trial: false, lastError: '' };
    circuit.failures += 1;
    circuit.lastError = reason;
    if (circuit.trial || circuit.failures >= this.threshold) circuit.openUntil = this.now() + this.openMs;
    circuit.trial = false;
    this.circuits.set(key, circuit);
  }

  /** The backends whose calls are refused right now, with why: what readiness reports. */
  openCircuits(): { backend: string; error: string }[] {
    const now = this.now();
    return [...this.circuits.values()]
      .filter((c) => c.openUntil > now)
      .map((c) => ({ backend: c.name, error: c.lastError }));
  }

  /** Whether calls to `key` are refused right now. */
  isOpen(key: string): boolean {
    const circuit = this.circuits.get(key);
    return circuit !== undefined && circuit.openUntil > this.now();
  }
}
