/**
 * What the script host's permission model (see ScriptSandbox) does not cover on Node 20, closed in
 * the script's own thread before the user's code is imported: network access (TCP, UDP, DNS,
 * fetch), new threads and loader-hook threads (a fresh isolate would not carry these patches), and
 * signals to other processes (SIGUSR1 would open the processor's inspector). Builtin modules are
 * per-isolate singletons, so the patched functions are the ones every later import sees, and they
 * are non-writable and non-configurable so the script cannot put the originals back.
 *
 * This is a JavaScript-level second line only: Node has more internal paths to a socket handle
 * than any list here can promise to name. The kernel-level boundary for the network is the host's
 * seccomp filter (socket(2) refused; see ScriptSandbox).
 */
import dgram from 'node:dgram';
import dns from 'node:dns';
import nodeModule from 'node:module';
import net from 'node:net';
import tls from 'node:tls';
import workerThreads from 'node:worker_threads';

export class SandboxDeniedError extends Error {
  override readonly name = 'SandboxDeniedError';
  readonly code = 'ERR_ACCESS_DENIED';
}

/** A plain function, so that `new Worker(...)` fails with this error too rather than a TypeError. */
function denied(what: string): () => never {
  return function refuse(): never {
    throw new SandboxDeniedError(`${what} is not allowed in the processing script`);
  };
}

function lock(target: object, key: string, what: string): void {
  Object.defineProperty(target, key, {
    value: denied(what),
    writable: false,
    configurable: false,
    enumerable: false,
  });
}

/** What only the host's code may use: gone for the script (`undefined`, and it stays so). */
function conceal(target: object, key: string): void {
  Object.defineProperty(target, key, {
    value: undefined,
    writable: false,
    configurable: false,
    enumerable: false,
  });
}

function lockFunctions(target: object, what: string): void {
  for (const key of Object.getOwnPropertyNames(target)) {
    const descriptor = Object.getOwnPropertyDescriptor(target, key);
    if (key !== 'constructor' && typeof descriptor?.value === 'function') lock(target, key, what);
  }
}

/**
 * Call after the worker has taken its own `workerData` (the watchdog's progress counter) and
 * `parentPort`: the script must not move the counter or talk to the host's thread directly.
 */
export function lockDownScriptThread(): void {
  conceal(workerThreads, 'workerData');
  conceal(workerThreads, 'parentPort');
  lock(net.Socket.prototype, 'connect', 'network access');
  lock(net.Server.prototype, 'listen', 'network access');
  lock(net.Server.prototype, '_listen2', 'network access');
  for (const key of ['bind', 'connect', 'send'])
    lock(dgram.Socket.prototype, key, 'network access');
  // Constructors and factories that create a socket handle (from an fd, an existing handle or a
  // fresh one), so no handle reaches the script to call its native methods on.
  for (const key of [
    'Socket',
    'Stream',
    'Server',
    'createServer',
    'connect',
    'createConnection',
    '_createServerHandle',
  ])
    lock(net, key, 'network access');
  for (const key of ['Socket', 'createSocket', '_createSocketHandle'])
    lock(dgram, key, 'network access');
  for (const key of ['TLSSocket', 'Server', 'createServer', 'connect'])
    lock(tls, key, 'network access');
  lockFunctions(dns.Resolver.prototype, 'DNS');
  lockFunctions(dns.promises.Resolver.prototype, 'DNS');
  lockFunctions(dns.promises, 'DNS');
  lockFunctions(dns, 'DNS');
  for (const key of ['fetch', 'WebSocket', 'EventSource']) {
    if (key in globalThis) lock(globalThis, key, 'network access');
  }
  lock(workerThreads, 'Worker', 'starting threads');
  lock(nodeModule, 'register', 'registering module loader hooks');
  for (const key of ['kill', '_kill', '_debugProcess', '_debugEnd']) {
    if (key in process) lock(process, key, 'signalling processes');
  }
  // ES module namespaces of builtins are snapshots of their exports: refresh them.
  nodeModule.syncBuiltinESMExports();
}
