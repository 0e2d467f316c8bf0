/** A table whose rows each belong to one account, as far as removeAllOfAccount uses it (any such `Table`). */
export interface AccountOwnedRows {
  findBy(field: 'accountId', value: string): Promise<{ id: string }[]>;
  remove(id: string): Promise<boolean>;
}

/**
 * Closing and purging an account (P10): every row of `accountId` in `table` goes. Each owning
 * module calls it on its own table. Returns how many it removed: a row that went in between
 * (another process purging too) does not count.
 */
export async function removeAllOfAccount(table: AccountOwnedRows, accountId: string): Promise<number> {
  let removed = 0;
  for (const row of await table.findBy('accountId', accountId)) if (await table.remove(row.id)) removed++;
  return removed;
}
