import type { MemoryManager } from '../manager/manager.js';
import { getDefaultManager } from '../manager/default.js';
import { stringListOption } from './options.js';
import type { LoadShedder } from './shedder.js';

/**
 * Returns a matcher for request targets under any of `prefixes`, on a path
 * segment boundary: `/health` matches `/health`, `/health/live` and
 * `/health?x=1`, not `/healthy`. Empty prefixes are ignored.
 */
export function createPathMatcher(prefixes: readonly string[]): (url: string) => boolean {
  const list = prefixes.filter((prefix) => prefix !== '' && prefix !== '/');
  return (url: string): boolean => {
    for (const prefix of list) {
      if (!url.startsWith(prefix)) continue;

      const next = url.charCodeAt(prefix.length);
      // NaN: the url ends here; 47 is '/', 63 is '?'.
      if (Number.isNaN(next) || next === 47 || next === 63) return true;
    }
    return false;
  };
}

/** Reads the `exemptPaths` option: paths never shed, each starting with `/`. */
export function exemptPathsOption(value: unknown): string[] {
  const paths = stringListOption('exemptPaths', value, []);
  const invalid = paths.find((path) => !path.startsWith('/'));
  if (invalid !== undefined) throw new RangeError(`Invalid option \`exemptPaths\`: expected paths starting with "/", got ${JSON.stringify(invalid)}`);
  return paths;
}

/**
 * Returns the shedding decision for one request target: false at once while
 * nothing is shed (one property read), else false for exempt paths, else the
 * shedder's counter. The exempt check runs only while shedding, so it costs
 * nothing in the normal state.
 */
export function createSheddingCheck(shedder: LoadShedder, exemptPaths: readonly string[]): (url: string) => boolean {
  const isExempt = createPathMatcher(exemptPaths);
  return (url: string): boolean => {
    if (shedder.shedRatio === 0) return false;
    if (isExempt(url)) return false;
    return shedder.shouldShed();
  };
}

/** Returns the given manager, or the one `headroom/register` or `headroom run` started, or throws. */
export function resolveManager(manager: MemoryManager | undefined | null): MemoryManager {
  const resolved = manager ?? getDefaultManager();
  if (resolved) return resolved;

  throw new TypeError('No memory manager: pass one from createMemoryManager(), or start the program with `node --import headroom/register` or `headroom run`');
}
