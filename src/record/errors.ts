/** One reason a record was refused, with the field path the caller must fix. */
export interface RecordIssue {
  path: string;
  message: string;
}

export class RecordValidationError extends Error {
  override readonly name = 'RecordValidationError';
  constructor(readonly issues: RecordIssue[]) {
    super(`Invalid record: ${issues.map((i) => `${i.path || '(record)'}: ${i.message}`).join('; ')}`);
  }
}
