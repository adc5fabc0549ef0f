import { BUILTIN_DETECTORS } from '../capture/pii-detectors.js';
import { PRESET_DAYS, RETENTION_PRESETS } from '../config/retention.js';

/**
 * The commented `llm-ledger.yaml` that `llm-ledger init` writes. Every active value is the
 * default (a test loads this file and compares it with the defaults), so a fresh file changes
 * nothing until it is edited; optional settings are shown commented out. Detector names and
 * retention presets come from the code, so the comments cannot drift from them.
 */
export function initTemplate(): string {
  const presets = RETENTION_PRESETS.map((p) => `#   ${p.padEnd(8)} content ${PRESET_DAYS[p].content} days, envelopes ${PRESET_DAYS[p].envelope} days`).join(
    '\n',
  );
  return `# llm-ledger configuration, written by 'llm-ledger init'.
# Every value below is the default; edit what you need. Unknown keys are errors (with the nearest
# valid name suggested). Relative paths resolve against this file's directory. String values may
# use \${VARIABLE} or \${VARIABLE:-default} from the environment: keep secrets out of this file.
# Environment variables override it: LLM_LEDGER_STORE, LLM_LEDGER_STORE_PATH, LLM_LEDGER_STORE_URL,
# LLM_LEDGER_SIGNING_KEY_FILE, LLM_LEDGER_ANCHOR, LLM_LEDGER_ORIGIN, LLM_LEDGER_DIGEST_KEY.

# Where records are kept.
store:
  type: sqlite                    # sqlite | jsonl | memory | postgres
  path: ./llm-ledger.db           # sqlite: the database file; jsonl: a directory (./llm-ledger-jsonl)
  max_file_bytes: 104857600       # jsonl only: start a new day file at this size
  # url: postgres://llm_ledger@db.internal:5432/audit   # postgres only; password in PGPASSWORD, not here
  schema: llm_ledger              # postgres only: the schema (it also prefixes the store's role names)
  append_timeout_ms: 5000         # an append not committed by then fails: gateway.on_store_failure applies
  # read_timeout_ms: 30000        # postgres only: how long any other statement may run

# The tamper-evident log: a Merkle tree with signed checkpoints.
log:
  origin: llm-ledger.local/default          # first line of every signed checkpoint
  signing_key_file: ./llm-ledger.key        # Ed25519 key, created on first use (mode 0600); keep it secret
  # On an auditor's machine, instead of the signing key: the public key 'llm-ledger keys verifier' prints.
  # verifier_key: llm-ledger.local/default+1a2b3c4d+AZ...
  checkpoint_interval_ms: 1000              # 0: a checkpoint with every commit
  # Strongly recommended: a copy of every checkpoint outside the database (a directory or a file the
  # writer cannot rewrite). Without it, a truncated or rolled-back log cannot be detected.
  # anchor:
  #   path: /var/lib/llm-ledger-anchor

# Group commit: records are written in batches.
writer:
  max_batch: 2048                 # records per transaction
  max_wait_ms: 1                  # how long a record waits for company before its batch commits

# Digests of prompts and responses in every envelope.
digest:
  algorithm: hmac-sha256          # hmac-sha256 (keyed: short texts cannot be guessed) | sha256
  key_file: ./llm-ledger.digest-key   # 32 random bytes, created on first use (or LLM_LEDGER_DIGEST_KEY)

# Bounds on what one envelope holds.
limits:
  max_metadata_bytes: 8192
  max_error_chars: 1024

# What is kept of each call's text. Default: digests only, no text anywhere.
capture:
  prompts: hash                   # none | hash | encrypted | plaintext (system prompt and input)
  responses: hash                 # the same, for the output
  headers: none                   # the same, for the request headers named in headers_allow
  allow_plaintext: false          # plaintext for any class is refused without this
  exclude_models: []              # model names or * globs: such calls keep envelope facts only
  max_body_size: 1048576          # bytes per stored field; longer text is cut on a character boundary
  headers_allow: []               # e.g. [user-agent, x-team]; credential headers are always refused
  pii:                            # redaction of stored text (only text that is stored is scanned)
    # enabled: true               # default: on when some class is encrypted or plaintext
    detectors: [${BUILTIN_DETECTORS.join(', ')}]
    custom: []                    # - { name: patient_id, pattern: 'PAT-\\d{6}', flags: i }

# Keys for stored content (capture mode encrypted). Create a key with: llm-ledger keys generate
encryption:
  kek_env: LLM_LEDGER_KEK         # the variable holding the key-encryption key (hex or base64, >= 32 bytes)
  # kek_file: ./llm-ledger.kek    # or a 0600 key file, used instead of the variable
  previous_kek_files: []          # keys from before a rotation, oldest first (llm-ledger keys rotate fills this)

# How long records are kept ('llm-ledger cleanup' applies it now; the gateway on a schedule).
# Presets:
${presets}
retention:
  preset: standard
  # content_days: 90              # whole days, or forever; overrides the preset (0: removed at the next cleanup)
  # envelope_days: 365            # whole days (at least 1), or forever; overrides the preset
  cleanup_interval_ms: 3600000    # how often a long-running process (the gateway) cleans up
  batch_size: 1000                # rows per transaction while cleaning up

# The audit gateway, 'llm-ledger serve': OpenAI- and Anthropic-compatible endpoints on 127.0.0.1.
gateway:
  port: 8787                      # 'llm-ledger serve --port' overrides; 0: any free port
  auth: pass_through              # pass_through: clients' own provider keys | gateway_keys
  keys: []                        # with gateway_keys, e.g.:
  #   - { sha256: <printf %s "$KEY" | sha256sum>, user: alice, team: payments }
  #   - { env: RISK_TEAM_GATEWAY_KEY, team: risk }
  providers:
    openai:
      base_url: https://api.openai.com        # what /v1/... is appended to
      # api_key: \${OPENAI_API_KEY}            # with auth: gateway_keys only
    anthropic:
      base_url: https://api.anthropic.com
      # api_key: \${ANTHROPIC_API_KEY}
    # local-vllm:
    #   format: openai                        # openai | anthropic; required unless the name is one of them
    #   base_url: http://10.0.0.5:8000
  models: []                      # routes, first match wins; a model no route matches goes to the first provider of its format
  #   - { match: 'llama-*', provider: local-vllm }
  #   - { match: gpt-4o, providers: [openai, { provider: azure, model: gpt-4o-2024-08-06 }] }   # in order: fallbacks
  retry: {}                       # retries of a failed attempt (429, 5xx, network error, attempt timeout), for every route;
  #                                 a route's own 'retry:' overrides what it names
  #   max_retries: 0              # further attempts at one provider before the next one is tried
  #   initial_backoff_ms: 250     # the first wait; each later one doubles, with full jitter
  #   max_backoff_ms: 8000
  #   attempt_timeout_ms: 600000  # how long one attempt waits for the status and headers (default: request_timeout_ms)
  #   max_retry_after_ms: 30000   # a longer Retry-After is not waited for: the next provider is tried
  request_timeout_ms: 600000      # the whole upstream exchange, the last byte of a stream included
  policies: []                    # checked in order at the request and response checkpoints (docs/governance.md), e.g.:
  #   - { name: approved-models, type: models, allow: ['gpt-4o*', 'claude-*'], deny: ['*-preview'] }
  #   - { name: output-cap, type: max_tokens, max: 4096, action: clamp }            # clamp | block
  #   - { name: pii, type: pii, detectors: [email, card], checkpoints: [request, response], action: redact }
  #   - { name: codenames, type: pattern, patterns: [{ name: codename, regex: 'project\\s+falcon', flags: i }],
  #       action: escalate, review: { mode: hold, timeout_ms: 300000 } }           # block | escalate | redact; hold | async
  #   - { name: spend, type: budget, per_user_usd: 25, per_team_usd: 500 }         # per UTC day
  #   - { name: per-key, type: rate_limit, requests_per_minute: 600, burst: 600 }
  policy_timeout_ms: 1000         # a policy that has not decided by then counts as BLOCK (fail closed)
  stream_window_chars: 256        # streamed answers: the newest characters held back while response policies check them
  review:
    reviewers: []                 # who may decide escalated calls, by token (Authorization: Bearer <token>):
    #   - { name: rita, env: REVIEWER_RITA_TOKEN, reveal: true }   # reveal: may read the content under review
    #   - { name: victor, sha256: <printf %s "$TOKEN" | sha256sum> }
    poll_interval_ms: 1000        # how often a held request looks for a decision taken through another gateway instance
    approval_ttl_ms: 86400000     # async reviews: how long an approval lets the client send the request again
  max_request_bytes: 33554432
  durability: batched             # batched | sync (each response waits for its record's commit)
  batch_window_ms: 5              # batched: calls ending this close together are sealed and written together (0: one by one)
  on_store_failure: fail_closed   # fail_closed (refuse traffic) | spool (keep records in spool_file, replay later)
  spool_file: ./llm-ledger.spool
  retry_interval_ms: 1000         # how often a failing store is tried again
  shutdown_timeout_ms: 30000      # how long a stop waits for requests in flight
  pricing: {}                     # USD per million tokens over the built-in table: { gpt-4o: { input: 2.5, output: 10 } }

# The MCP server ('llm-ledger mcp') has nothing to configure: its tools only read envelopes and
# can never reveal stored content. Reveal content with 'llm-ledger show <id> --reveal --reason ...'.
`;
}
