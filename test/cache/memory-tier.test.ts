import { describe, expect, it } from 'vitest';
import { MemoryTier } from '../../workers/cache/memory-tier';

describe('MemoryTier', () => {
  it('answers what it holds until the entry expires', () => {
    const tier = new MemoryTier(100, 50);
    tier.set('a', 'alpha', 1000);
    expect(tier.get('a', 999)).toBe('alpha');
    expect(tier.get('a', 1000)).toBeUndefined();
    expect(tier.stats()).toEqual({ entries: 0, chars: 0 });
  });

  it('evicts the least recently used entries once the bound on characters (keys and values) is exceeded', () => {
    const tier = new MemoryTier(10, 10);
    tier.set('a', 'aaaa', Infinity);
    tier.set('b', 'bbbb', Infinity);
    expect(tier.get('a', 0)).toBe('aaaa'); // a is now the most recently used
    tier.set('c', 'cccc', Infinity);
    expect(tier.get('b', 0)).toBeUndefined();
    expect(tier.get('a', 0)).toBe('aaaa');
    expect(tier.get('c', 0)).toBe('cccc');
    expect(tier.stats()).toEqual({ entries: 2, chars: 10 });
  });

  it('leaves values over the entry bound to the slower tier, and replaces a key in place', () => {
    const tier = new MemoryTier(100, 4);
    tier.set('big', 'too long', Infinity);
    expect(tier.get('big', 0)).toBeUndefined();
    tier.set('k', 'one', Infinity);
    tier.set('k', 'two!', Infinity);
    expect(tier.get('k', 0)).toBe('two!');
    expect(tier.stats()).toEqual({ entries: 1, chars: 5 });
    tier.delete('k');
    tier.delete('absent');
    tier.set('x', 'x', Infinity);
    tier.clear();
    expect(tier.stats()).toEqual({ entries: 0, chars: 0 });
  });
});
