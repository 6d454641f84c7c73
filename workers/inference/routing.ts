import type { ServedRoute, ServedSplit } from './served-versions';

/*
 * Which route of a split alias serves a request.
 *
 * With a routing key: weighted rendezvous hashing. Each route scores the key with a hash of
 * (model, alias, key) seeded by the route's version, u in (0, 1), as -ln(u) / weight, and the
 * lowest score wins; route r wins with probability weight_r / total. The same key therefore
 * lands on the same version while the weights stand (whatever the isolate or location), and a
 * key moves from route a to route b only when b's weight grew relative to a's: raising a
 * candidate while the other routes give up their share in proportion (any change between two
 * routes, and every step, which scales the others together) moves keys to that candidate only.
 *
 * Without a key: at random by weight. Both cost a few hundred nanoseconds, with no I/O.
 */

/** The request header that makes assignment sticky. */
export const ROUTING_KEY_HEADER = 'Modelflare-Routing-Key';

function mix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** MurmurHash3's 32-bit mixing over UTF-16 code units, then its finaliser. */
export function hash32(text: string, seed: number): number {
  let h = seed | 0;
  for (let i = 0; i < text.length; i += 1) {
    let k = Math.imul(text.charCodeAt(i), 0xcc9e2d51);
    k = (k << 15) | (k >>> 17);
    h ^= Math.imul(k, 0x1b873593);
    h = (h << 13) | (h >>> 19);
    h = (Math.imul(h, 5) + 0xe6546b64) | 0;
  }
  return mix32(h ^ text.length);
}

/** The route a key lands on (weighted rendezvous hashing over the routes' versions). */
export function routeForKey(split: ServedSplit, key: string): ServedRoute {
  const text = `${split.routes[0]!.served.modelName}\0${split.alias}\0${key}`;
  let best = split.routes[0]!;
  let bestScore = Infinity;
  for (const route of split.routes) {
    const u = (hash32(text, Math.imul(route.served.version, 0x9e3779b1)) + 0.5) / 4294967296;
    const score = -Math.log(u) / route.weight;
    if (score < bestScore) {
      bestScore = score;
      best = route;
    }
  }
  return best;
}

/** A route drawn at random by weight. */
export function routeAtRandom(split: ServedSplit, random: () => number): ServedRoute {
  let left = random() * split.totalWeight;
  for (const route of split.routes) {
    left -= route.weight;
    if (left < 0) return route;
  }
  return split.routes[split.routes.length - 1]!;
}

export function assignRoute(split: ServedSplit, key: string | undefined, random: () => number): ServedRoute {
  if (split.routes.length === 1) return split.routes[0]!;
  return key === undefined ? routeAtRandom(split, random) : routeForKey(split, key);
}
