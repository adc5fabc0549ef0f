/*
 * Where the gateway is reached, in a module of its own so that clients of the gateway (the CLI's
 * review commands) need not load the gateway itself.
 */

/** The gateway only ever listens on the loopback interface; a reverse proxy exposes it, with TLS. */
export const GATEWAY_HOST = '127.0.0.1';

/** Where reviewers work: `GET /v1/reviews`, `GET /v1/reviews/{id}`, `POST /v1/reviews/{id}/approve|reject|reveal`. */
export const REVIEWS_PATH = '/v1/reviews';
