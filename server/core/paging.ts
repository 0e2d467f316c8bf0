/**
 * One page of `rows` (already filtered and in listing order) after the row whose id is `cursor`;
 * `nextCursor` is the page's last id while more rows follow, else null. An unknown cursor starts
 * again at page one, as the admin outbox and support lists always have. The parent's credit
 * history keeps its own paging: there an unknown cursor is an error, so that a client paging to
 * the end cannot loop.
 */
export function pageAfterCursor<Row extends { id: string }>(
  rows: readonly Row[],
  opts: { limit: number; cursor?: string | undefined },
): { page: Row[]; nextCursor: string | null } {
  const start = opts.cursor ? rows.findIndex((r) => r.id === opts.cursor) + 1 : 0;
  const page = rows.slice(start, start + opts.limit);
  const last = page[page.length - 1];
  return { page, nextCursor: start + opts.limit < rows.length && last ? last.id : null };
}
