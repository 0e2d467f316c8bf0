/**
 * Wraps a load so that only the newest call's answer counts. Two quick events each start a
 * load; when the older answer lands last it is reported as not the newest, so the caller
 * does not end on the older data. A call that fails rejects as the load did.
 */
export function newestOnly<T>(load: () => Promise<T>): () => Promise<{ value: T; newest: boolean }> {
  let started = 0;
  return async () => {
    const mine = ++started;
    const value = await load();
    return { value, newest: mine === started };
  };
}
