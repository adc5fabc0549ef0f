import { startBenchUpstream } from './gateway-upstream.js';

/**
 * The bench upstream in a process of its own (forked with an IPC channel), so that its work
 * neither slows the load generator nor shares an event loop with a gateway. It sends its URL
 * when listening; on 'stop' it sends what it served and exits.
 */
if (!process.send) throw new Error('gateway-upstream-main is started by the gateway benchmark with child_process.fork');
const upstream = await startBenchUpstream();
process.send({ url: upstream.url });
// A benchmark that dies must not leave its upstream behind.
process.on('disconnect', () => process.exit(0));
process.on('message', (message) => {
  if (message !== 'stop') return;
  void upstream.close().then(() => process.send!({ served: upstream.served }, () => process.exit(0)));
});
