/**
 * Starts a memory manager when loaded with `node --import headroom/register app.js`,
 * configured from `HEADROOM_*` environment variables, with no change to the app.
 * The app can reach it with `getDefaultManager()`.
 */
import { attachConsoleDashboard } from './cli/dashboard.js';
import { attachIpcReporter, reportServer } from './cli/ipc.js';
import { getDefaultManager, setDefaultManager } from './manager/default.js';
import { ENVIRONMENT_VARIABLES, flagFromEnvironment, optionsFromEnvironment, unknownEnvironmentVariables } from './manager/env-options.js';
import { createMemoryManager, type MemoryManager } from './manager/manager.js';

/**
 * Serves the HTTP API and dashboard on 127.0.0.1 from inside the program. The
 * server module loads only here, so a program without HEADROOM_PORT never loads ws or prom-client.
 */
function serveApi(manager: MemoryManager, portText: string): void {
  const port = Number(portText);
  if (!Number.isInteger(port) || port < 0 || port > 65_535) {
    throw new RangeError(`Invalid environment variable HEADROOM_PORT: expected a TCP port from 0 to 65535, got ${JSON.stringify(portText)}`);
  }
  delete process.env.HEADROOM_PORT; // a child process of the program must not try the same port

  import('./http/serve-in-child.js')
    .then(({ startHeadroomServer }) => startHeadroomServer(manager, { port }))
    .then((server) => reportServer(server.host, server.port))
    .catch((err: unknown) => {
      const message = err instanceof Error ? err.message : String(err);
      process.stderr.write(`headroom: could not serve the API on 127.0.0.1:${port}: ${message}\n`);
    });
}

if (getDefaultManager() === null) {
  // A bad HEADROOM_* value throws here, naming the variable, and node does not start the app.
  const manager = createMemoryManager(optionsFromEnvironment(process.env));

  setDefaultManager(manager);
  manager.start();

  // A misspelt variable would otherwise leave its setting at the default without a word.
  const unknown = unknownEnvironmentVariables(process.env);
  if (unknown.length > 0) {
    process.emitWarning(`headroom ignores the environment variable${unknown.length > 1 ? 's' : ''} ${unknown.join(', ')}. It reads ${Object.keys(ENVIRONMENT_VARIABLES).join(', ')}.`, {
      code: 'HEADROOM_UNKNOWN_ENVIRONMENT_VARIABLE',
    });
  }

  // `headroom run` sets HEADROOM_IPC in the child it starts; the variable is removed so grandchildren don't report too.
  if (process.env.HEADROOM_IPC === '1' && typeof process.send === 'function') {
    delete process.env.HEADROOM_IPC;
    attachIpcReporter(manager);
  }
  if (flagFromEnvironment(process.env, 'HEADROOM_DASHBOARD')) attachConsoleDashboard(manager, process.stderr);
  if (process.env.HEADROOM_PORT) serveApi(manager, process.env.HEADROOM_PORT);
}
