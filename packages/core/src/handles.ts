/**
 * Open-handle accounting for "nothing left open after stop()/close()" tests. Counts the
 * resources Node reports as keeping the event loop alive (timers, sockets, servers, ...).
 */
export function activeResources(): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const type of process.getActiveResourcesInfo()) counts[type] = (counts[type] ?? 0) + 1;
  return counts;
}

/**
 * Resources present now that were not in `before` (by type). Waits a few event-loop turns first so
 * sockets that are already closing can finish. An empty object means nothing leaked.
 */
export async function leakedResources(before: Record<string, number>, settleTurns = 20): Promise<Record<string, number>> {
  let leaked: Record<string, number> = {};
  for (let i = 0; i < settleTurns; i++) {
    await new Promise<void>((resolve) => setImmediate(resolve));
    leaked = {};
    const now = activeResources();
    for (const [type, n] of Object.entries(now)) {
      const extra = n - (before[type] ?? 0);
      if (extra > 0) leaked[type] = extra;
    }
    if (Object.keys(leaked).length === 0) return leaked;
    // Not unref'd: in a plain script nothing else may keep the process alive while resources settle.
    await new Promise<void>((resolve) => setTimeout(resolve, 10));
  }
  return leaked;
}
