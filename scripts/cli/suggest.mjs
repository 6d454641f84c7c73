// @ts-check
/* "Did you mean": the closest few of the known names to what was typed. */

/**
 * Edit distance with adjacent transpositions (optimal string alignment): `modles` is one edit
 * from `models`.
 * @param {string} a
 * @param {string} b
 */
export function distance(a, b) {
  const width = b.length + 1;
  const d = new Array((a.length + 1) * width).fill(0);
  const at = (/** @type {number} */ i, /** @type {number} */ j) => /** @type {number} */ (d[i * width + j]);
  for (let i = 0; i <= a.length; i++) d[i * width] = i;
  for (let j = 0; j <= b.length; j++) d[j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min(at(i - 1, j) + 1, at(i, j - 1) + 1, at(i - 1, j - 1) + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) best = Math.min(best, at(i - 2, j - 2) + 1);
      d[i * width + j] = best;
    }
  }
  return at(a.length, b.length);
}

/**
 * The known names within a few edits of `typed` (about a third of its length), closest first.
 * @param {string} typed
 * @param {Iterable<string>} known
 * @param {number} [limit]
 */
export function closest(typed, known, limit = 3) {
  const allowed = Math.max(1, Math.floor(typed.length / 3));
  return [...new Set(known)]
    .map((name) => ({ name, d: distance(typed.toLowerCase(), name.toLowerCase()) }))
    .filter((c) => c.d <= allowed && c.d > 0)
    .sort((a, b) => a.d - b.d || a.name.localeCompare(b.name))
    .slice(0, limit)
    .map((c) => c.name);
}

/**
 * The commands a mistyped command line may have meant: each command compared with as many of
 * the typed words as it has.
 * @param {string[]} words what was typed (positionals, in order)
 * @param {string[]} names the commands' names
 */
export function closestCommands(words, names) {
  /** @type {Map<string, number>} */
  const best = new Map();
  for (const name of names) {
    const size = name.split(' ').length;
    if (words.length < size) continue;
    const typed = words.slice(0, size).join(' ');
    const d = distance(typed, name);
    if (d > 0 && d <= Math.max(1, Math.floor(name.length / 4))) best.set(name, d);
  }
  return [...best.entries()]
    .sort((a, b) => a[1] - b[1] || a[0].localeCompare(b[0]))
    .slice(0, 3)
    .map(([name]) => name);
}

/** @param {string[]} names */
export const didYouMean = (names) =>
  names.length === 0 ? '' : `; did you mean ${names.map((n) => `'${n}'`).join(' or ')}?`;
