/**
 * What the format-v1 fixture (fixtures/format-v1/, written by make-format-fixture.ts) holds, as
 * literals: the specification format-fixture.test.ts and format-timeline.test.ts hold later
 * versions to. Never change them to fit a new format.
 */

/** Every event type the gateway emitted for the fixture's traffic, with how many events (format 1: records) each. */
export const FORMAT_V1_EVENT_TYPES: Readonly<Record<string, number>> = {
  request_received: 16,
  request_completed: 16,
  policy_evaluation_start: 28,
  policy_evaluated: 60,
  policy_evaluation_complete: 28,
  request_blocked: 1,
  response_blocked: 1,
  request_escalated: 2,
  response_escalated: 1,
  review_created: 3,
  review_decided: 3,
  review_applied: 1,
  routing_start: 14,
  routing_success: 12,
  routing_attempt_failed: 3,
  routing_fallback: 1,
  routing_failed: 2,
  models_listed: 1,
};
