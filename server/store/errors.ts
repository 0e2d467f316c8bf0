export class StoreConflictError extends Error {
  constructor(
    readonly table: string,
    readonly field: string,
  ) {
    super(`Conflict on ${table}.${field}`);
    this.name = 'StoreConflictError';
  }
}

/** The store cannot be opened safely; the server must stop and leave the files as they are. */
export class StoreOpenError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'StoreOpenError';
  }
}
