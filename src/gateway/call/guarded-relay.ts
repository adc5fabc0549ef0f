import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import type { Evaluation } from '../../policy/engine.js';
import type { StreamObserver } from '../../providers/stream-observer.js';
import type { CallState } from './call-record.js';
import { observationDecoder } from '../http/content-encoding.js';
import { escalate } from '../governance/escalation.js';
import { countSanitized, runCheckpoint } from '../governance/governance.js';
import { refuseCall, refuseReviewed } from '../governance/policy-answers.js';
import type { GatewayRuntime } from '../runtime.js';
import { StreamGuard, type GuardRule } from './stream-guard.js';
import { streamErrorEvent, type GatewayError } from '../http/wire-errors.js';

export interface RelayHooks {
  /** The upstream's answer is complete: a disconnect from now on is no longer an abort. */
  finishing(): void;
  /** Records the call once, then `send` finishes the client's answer (`recorded` false: withheld, with sync durability). */
  complete(send: (recorded: boolean) => void): Promise<void>;
}

/**
 * A streamed answer under the response checkpoint: relayed through a `StreamGuard`, which holds
 * back the newest text of each part while the text rules check it. The checkpoint is evaluated
 * (and its events recorded) when a rule stops the stream, or else once over the whole answer when
 * it ends, before its last part is released, so a policy that judges whole answers can still stop
 * it there. A stopped stream ends with an error event in the endpoint's own format.
 */
export function relayGuardedStream(
  runtime: GatewayRuntime,
  res: ServerResponse,
  call: CallState,
  incoming: IncomingMessage,
  status: number,
  upstreamHeaders: OutgoingHttpHeaders,
  observer: StreamObserver,
  rules: readonly GuardRule[],
  hooks: RelayHooks,
): void {
  const sync = runtime.settings.durability === 'sync';
  // The client gets decoded text (and only what the guard releases), so the upstream's length and encoding no longer hold.
  const headers = { ...upstreamHeaders };
  delete headers['content-length'];
  delete headers['content-encoding'];
  res.writeHead(status, headers);
  res.flushHeaders();
  let evaluated = false;
  let upstreamEnded = false;
  /** Sync: what is released after the upstream ended waits for the record, as the end of any stream does. */
  const tail: string[] = [];

  const evaluate = (): Promise<Evaluation> => {
    evaluated = true;
    return runCheckpoint(runtime, call, 'response', [observer.result().output ?? '']);
  };

  /** Ends the stream with the refusal's error event (the call was marked refused by `refuseCall`). */
  const stopWith = async ({ error }: { error: GatewayError }): Promise<void> => {
    hooks.finishing();
    call.response = observer.result();
    await hooks.complete((recorded) => {
      if (recorded) res.end(streamErrorEvent(call.adapter.provider, call.adapter.endpoint, error));
      else res.destroy();
    });
    incoming.destroy();
  };

  const guard = new StreamGuard(call.adapter, rules, runtime.settings.streamWindowChars, {
    write(text) {
      if (sync && upstreamEnded) return void tail.push(text);
      if (!res.write(text)) {
        incoming.pause();
        res.once('drain', () => incoming.resume());
      }
    },
    block(rule, labels) {
      // The evaluation records the checkpoint's events; the stream stops whatever it says.
      void evaluate()
        .catch(() => undefined)
        .then(() => stopWith(refuseCall(call, 'response', { policy: rule.policy.name, reason: `found ${labels.join(', ')} in the answer` })));
    },
    async escalate(rule, labels) {
      const evaluation = await evaluate();
      const result = evaluation.results.find((r) => r.policy === rule.policy);
      const reason = `found ${labels.join(', ')} in the answer`;
      const outcome = await escalate(
        runtime,
        call,
        res,
        'response',
        result ?? { policy: rule.policy, outcome: 'ESCALATE', reason, durationMs: 0, verdict: { outcome: 'ESCALATE', reason } },
        { output: observer.result().output ?? '' },
      );
      if (outcome.kind === 'approved') return true;
      if (outcome.kind === 'rejected') await stopWith(refuseReviewed(call, 'response', rule.policy.name, outcome.review));
      else if (outcome.kind === 'unrecorded')
        await stopWith(
          refuseCall(call, 'response', {
            policy: rule.policy.name,
            reason: 'escalated, and the review could not be recorded, so the rest of the answer is withheld',
          }),
        );
      // Gone: the client left; the exchange records the abort.
      return false;
    },
  });

  const text = new TextDecoder('utf-8');
  const take = (chunk: Buffer) => {
    observer.push(chunk);
    guard.push(text.decode(chunk, { stream: true }));
  };
  const decoder = observationDecoder(incoming.headers['content-encoding'], take);
  incoming.on('data', (chunk: Buffer) => (decoder ? decoder.write(chunk) : take(chunk)));
  incoming.on('end', () => {
    const ended = async () => {
      if (guard.isStopped) return;
      upstreamEnded = true;
      hooks.finishing();
      guard.push(text.decode());
      call.response = observer.end();
      if (!evaluated) {
        const evaluation = await evaluate();
        const by = evaluation.decidedBy;
        if (evaluation.outcome === 'BLOCK') {
          guard.stop();
          return stopWith(refuseCall(call, 'response', { policy: by!.policy.name, reason: by!.reason ?? 'blocked' }));
        }
      }
      if ((await guard.end()) === 'stopped') return;
      countSanitized(call, guard.replaced);
      await hooks.complete((recorded) => {
        if (!sync) return void res.end();
        if (recorded) res.end(tail.join(''));
        else res.destroy();
      });
    };
    if (decoder) decoder.end(() => void ended());
    else void ended();
  });
}
