// The soak's own record of the registry it drives: which versions exist (and the offset that
// identifies each one's answers), which may be called, and where the alias pointed when.

export function createRegistryState() {
  const offsets = new Map(); // version number -> offset (the same number: y = 2·x + version)
  const callable = new Set();
  // Each alias target with the window in which a request may legitimately have seen it.
  const aliasHistory = [];
  let aliasTarget = null;
  let latest = 0;
  let queue = Promise.resolve();

  return {
    offsets,
    get aliasTarget() {
      return aliasTarget;
    },
    added(version) {
      offsets.set(version, version);
      callable.add(version);
      latest = Math.max(latest, version);
    },
    /** A random version predictions may pin (never one being retired). */
    pick(random) {
      const list = [...callable];
      return list[Math.floor(random() * list.length)];
    },
    callableVersions: () => [...callable],
    /** Takes a version out of the pickable set before it is archived. */
    retire(version) {
      callable.delete(version);
    },
    /**
     * Runs `change` alone: registry changes never overlap, so every request's window maps to a
     * known set of alias targets and versions.
     */
    exclusive(change) {
      const run = queue.then(change);
      queue = run.catch(() => {});
      return run;
    },
    /**
     * A move to `version` is being sent: from now on a request may see it (the server can commit
     * before its answer arrives). `settle(true)` once it answered, `settle(false)` if refused.
     */
    aliasMoving(version) {
      const entry = { version, from: Date.now(), until: Infinity };
      const previous = aliasHistory.at(-1);
      aliasHistory.push(entry);
      return (moved) => {
        if (!moved) {
          aliasHistory.splice(aliasHistory.indexOf(entry), 1);
          return;
        }
        if (previous) previous.until = Date.now();
        aliasTarget = version;
      };
    },
    /** Versions the alias may have resolved to for a request sent at `t0` and answered at `t1`. */
    aliasTargetsBetween(t0, t1) {
      return new Set(aliasHistory.filter((h) => h.from <= t1 && h.until >= t0).map((h) => h.version));
    },
    /** A version being uploaded: `latest` may answer with it before its upload's answer arrives. */
    uploading(version) {
      offsets.set(version, version);
      return (created) => {
        if (!created) return offsets.delete(version);
        callable.add(version);
        latest = Math.max(latest, version);
      };
    },
    /** The highest version whose upload has answered. */
    get latest() {
      return latest;
    },
  };
}
