/** Why a secure-aggregation step was refused; see {@link SecAggError}. */
export type SecAggErrorCode =
  | 'WRONG_ROUND'
  | 'BELOW_THRESHOLD'
  | 'BAD_SHARE'
  | 'UNKNOWN_SITE'
  | 'DUPLICATE'
  | 'BAD_STATE'
  | 'MALFORMED'
  | 'BAD_SIGNATURE'
  | 'INCONSISTENT';

/**
 * A refused secure-aggregation step, with a named code:
 * WRONG_ROUND (a message for another study or round), BELOW_THRESHOLD (fewer than t sites left —
 * the round aborts), BAD_SHARE (an encrypted share that does not open, or a reconstructed secret that
 * does not match its public key), UNKNOWN_SITE (a sender or recipient not in the round's set),
 * DUPLICATE (a second message from one site for one step), BAD_STATE (a step called out of order),
 * MALFORMED (wrong types, lengths or values), BAD_SIGNATURE (a consistency signature that does not
 * verify, is made with a key that is not the site's, or for another round or session), INCONSISTENT
 * (sites were told different survivor sets — a lying server). Messages carry ids and sizes, never values.
 */
export class SecAggError extends Error {
  override readonly name = 'SecAggError';

  /**
   * @param code - the named reason
   * @param message - what was refused (ids, counts; never update values or key material)
   */
  constructor(
    readonly code: SecAggErrorCode,
    message: string,
  ) {
    super(`${code}: ${message}`);
  }
}
