/**
 * Raised when a data file does not have the expected shape. The message names the file, the column and
 * how many rows are affected — never a cell value or a row number, which could identify a patient.
 */
export class DataSchemaError extends Error {
  override readonly name = 'DataSchemaError';
}
