/** A row with an id and a time field (a creation time, a start, a ledger entry's moment). */
type Timed<K extends string> = { readonly id: string } & { readonly [F in K]: number };

/**
 * Oldest first by `field`, ties by id: the order of an account's data in its export (P11) and
 * of other lists read front to back, the same every time for the same rows.
 */
export function oldestFirst<K extends string>(field: K): (a: Timed<K>, b: Timed<K>) => number {
  return (a, b) => a[field] - b[field] || a.id.localeCompare(b.id);
}

/** Newest first by `field`, ties by id (descending): the order of the lists a person reads from the top. */
export function newestFirst<K extends string>(field: K): (a: Timed<K>, b: Timed<K>) => number {
  return (a, b) => b[field] - a[field] || (a.id < b.id ? 1 : -1);
}
