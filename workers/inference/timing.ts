/** Server-Timing entries for one request: where its time went. */
export class Timing {
  private readonly entries: { name: string; ms: number; desc?: string }[] = [];

  async measure<T>(name: string, work: () => Promise<T> | T): Promise<T> {
    const start = performance.now();
    try {
      return await work();
    } finally {
      this.entries.push({ name, ms: performance.now() - start });
    }
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

  note(name: string, desc: string): void {
    this.entries.push({ name, ms: 0, desc });
  }

  header(): string {
    return this.entries.map((e) => `${e.name};dur=${e.ms.toFixed(2)}${e.desc ? `;desc="${e.desc}"` : ''}`).join(', ');
  }
}
