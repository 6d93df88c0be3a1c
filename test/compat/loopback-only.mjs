// Preloaded into kinesis-local (which hard-codes 0.0.0.0): every server it opens binds 127.0.0.1 instead,
// so tests never listen on a public interface.
import net from 'node:net';

const listen = net.Server.prototype.listen;
const ANY = new Set([undefined, null, '', '0.0.0.0', '::']);

net.Server.prototype.listen = function listenOnLoopback(...args) {
  if (args[0] !== null && typeof args[0] === 'object') {
    if (ANY.has(args[0].host)) args[0] = { ...args[0], host: '127.0.0.1' };
  } else if (typeof args[0] === 'number' || typeof args[0] === 'string') {
    if (typeof args[1] === 'function' || args[1] === undefined) args.splice(1, 0, '127.0.0.1');
    else if (ANY.has(args[1])) args[1] = '127.0.0.1';
  }
  return listen.apply(this, args);
};
