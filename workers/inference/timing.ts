/** One stage of a prediction and how long it took (the Workers clock only moves at I/O). */
export interface TimingEntry {
  name: string;
  ms: number;
  /** What the stage found (the cache tier that answered). */
  desc?: string;
}

/** Where a prediction's time went, stage by stage; the HTTP adapter turns it into Server-Timing. */
export class Timing {
  readonly entries: TimingEntry[] = [];

  async measure<T>(name: string, work: () => Promise<T> | T): Promise<T> {
    const start = performance.now();
    try {
      return await work();
    } finally {
      this.entries.push({ name, ms: performance.now() - start });
    }
  }

  /** Describes the stage measured last under `name`. */
  describe(name: string, desc: string): void {
    const entry = this.entries.findLast((e) => e.name === name);
    if (entry) entry.desc = desc;
  }

  /** For synchronous stages: no promise, no extra turn of the event loop. */
  measureSync<T>(name: string, work: () => T): T {
    const start = performance.now();
    try {
      return work();
    } finally {
      this.entries.push({ name, ms: performance.now() - start });
    }
  }
}
