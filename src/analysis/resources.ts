/**
 * Counts active resources by type, from the list `process.getActiveResourcesInfo()`
 * returns (one type name per handle or request, such as `Timeout` or `TCPSocketWrap`).
 * The result is what `LeakDetector.update` takes as `resources`.
 */
export function countResources(types: readonly string[]): Record<string, number> {
  // A null prototype, so a type named like an Object.prototype member still counts from 0.
  const counts: Record<string, number> = Object.create(null) as Record<string, number>;
  for (const type of types) counts[type] = (counts[type] ?? 0) + 1;
  return counts;
}
