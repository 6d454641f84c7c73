// Which versions running work may still need: a version is archived only once nothing in
// flight can resolve to it, so every "not found" the soak sees is a real fault.

export function createInFlight(registry) {
  const running = new Set();
  return {
    /**
     * Registers work that needs version `version` (a number), or whatever the alias pointed at
     * while it runs (`'alias'`); answers the function that ends it.
     */
    begin(version) {
      const entry = { version, t0: Date.now() };
      running.add(entry);
      return () => running.delete(entry);
    },
    /** Whether any running work might still resolve to `version`. */
    needs(version) {
      const now = Date.now();
      for (const { version: v, t0 } of running) {
        if (v === version) return true;
        if (v === 'alias' && registry.aliasTargetsBetween(t0, now).has(version)) return true;
      }
      return false;
    },
  };
}
