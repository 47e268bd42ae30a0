/** Base error of the store, e.g. an unreadable/corrupt database file or a schema newer than the code. */
export class StoreError extends Error {
  override readonly name: string = 'StoreError';
}

/** A unique key is already taken, e.g. a second contribution from the same node for the same study/round/kind. */
export class DuplicateError extends StoreError {
  override readonly name: string = 'DuplicateError';
}

/** The record to update, or a record the new one refers to, does not exist. */
export class NotFoundError extends StoreError {
  override readonly name: string = 'NotFoundError';
}
