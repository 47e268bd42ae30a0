/** Raised when aggregation inputs are unusable: empty, mismatched in shape, badly weighted or non-finite. */
export class AggregationError extends Error {
  override readonly name = 'AggregationError';
}
