import { describe, expect, it } from 'vitest';
import { newestFirst, oldestFirst } from './order.js';

const rows = [
  { id: 'b', createdAt: 2 },
  { id: 'c', createdAt: 1 },
  { id: 'a', createdAt: 2 },
  { id: 'd', createdAt: 3 },
];
const ids = (list: { id: string }[]) => list.map((r) => r.id);

describe('list orders by a time field, ties by id', () => {
  it('oldestFirst: earliest first, rows of the same moment by id ascending', () => {
    expect(ids([...rows].sort(oldestFirst('createdAt')))).toEqual(['c', 'a', 'b', 'd']);
  });

  it('newestFirst: latest first, rows of the same moment by id descending', () => {
    expect(ids([...rows].sort(newestFirst('createdAt')))).toEqual(['d', 'b', 'a', 'c']);
  });
});
