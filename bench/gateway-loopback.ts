import { Server } from 'node:net';

/**
 * Loaded with `node --import` into the Portkey gateway's process: its server listens on every
 * interface and has no option to choose one, and benchmark servers listen on 127.0.0.1 only. A
 * `listen(port)` or `listen(port, callback)` without a host gets 127.0.0.1; nothing else changes.
 */
const listen = Server.prototype.listen;
Server.prototype.listen = function (this: Server, ...args: unknown[]) {
  if (typeof args[0] === 'number' && (args[1] === undefined || typeof args[1] === 'function')) {
    if (args[1] === undefined) args[1] = '127.0.0.1';
    else args.splice(1, 0, '127.0.0.1');
  }
  return (listen as (...a: unknown[]) => Server).apply(this, args);
} as typeof Server.prototype.listen;
