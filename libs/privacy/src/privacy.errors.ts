/** A DP setting or argument outside its valid range (names the field and the bad value). */
export class PrivacyConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PrivacyConfigError';
  }
}

/** A round would take a node past its privacy budget; nothing was recorded. */
export class BudgetExceededError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'BudgetExceededError';
  }
}

/**
 * The budget ledger file exists but cannot be trusted (unreadable, not JSON, wrong shape, other orders).
 * It is never reset automatically: an operator must look at the named file.
 */
export class LedgerCorruptError extends Error {
  constructor(
    readonly path: string,
    detail: string,
  ) {
    super(`privacy budget ledger ${path} is unusable: ${detail}; refusing to continue (the file is left untouched)`);
    this.name = 'LedgerCorruptError';
  }
}
