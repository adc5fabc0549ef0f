/**
 * A failure of a built-in policy whose message is the policy's own words (never call content),
 * so it may be recorded and shown to the client. Anything else a policy throws is recorded by
 * its error's name only: a custom policy's message could quote the prompt.
 */
export class PolicyError extends Error {
  override readonly name = 'PolicyError';
}
