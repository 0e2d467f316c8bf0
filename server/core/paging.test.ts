import { describe, expect, it } from 'vitest';
import { pageAfterCursor } from './paging.js';

const rows = ['a', 'b', 'c', 'd', 'e'].map((id) => ({ id }));
const ids = (page: { id: string }[]) => page.map((r) => r.id);

describe('pageAfterCursor: admin lists paged by the last id seen', () => {
  it('gives the first page without a cursor, and the last id of it as the next cursor', () => {
    const first = pageAfterCursor(rows, { limit: 2 });
    expect(ids(first.page)).toEqual(['a', 'b']);
    expect(first.nextCursor).toBe('b');
  });

  it('goes on after the cursor, and has no next cursor on the last page', () => {
    expect(pageAfterCursor(rows, { limit: 2, cursor: 'b' })).toEqual({
      page: [{ id: 'c' }, { id: 'd' }],
      nextCursor: 'd',
    });
    expect(pageAfterCursor(rows, { limit: 2, cursor: 'd' })).toEqual({ page: [{ id: 'e' }], nextCursor: null });
  });

  it('has no next cursor when a page ends exactly at the last row', () => {
    expect(pageAfterCursor(rows, { limit: 5 }).nextCursor).toBeNull();
    expect(pageAfterCursor(rows, { limit: 3, cursor: 'b' })).toEqual({
      page: [{ id: 'c' }, { id: 'd' }, { id: 'e' }],
      nextCursor: null,
    });
  });

  it('starts again at page one for a cursor no row has', () => {
    expect(pageAfterCursor(rows, { limit: 2, cursor: 'gone' })).toEqual(pageAfterCursor(rows, { limit: 2 }));
  });

  it('gives an empty page for an empty list', () => {
    expect(pageAfterCursor([], { limit: 2 })).toEqual({ page: [], nextCursor: null });
  });
});
