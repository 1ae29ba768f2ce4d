/**
 * Starts a memory manager when loaded with `node --import headroom/register app.js`,
 * configured from `HEADROOM_*` environment variables, with no change to the app.
 * The app can reach it with `getDefaultManager()`.
 */
import { attachConsoleDashboard } from './cli/dashboard.js';
import { attachIpcReporter } from './cli/ipc.js';
import { getDefaultManager, setDefaultManager } from './manager/default.js';
import { optionsFromEnvironment } from './manager/env-options.js';
import { createMemoryManager } from './manager/manager.js';

if (getDefaultManager() === null) {
  // A bad HEADROOM_* value throws here, naming the variable, and node does not start the app.
  const manager = createMemoryManager(optionsFromEnvironment(process.env));

  setDefaultManager(manager);
  manager.start();

  // `headroom run` sets HEADROOM_IPC in the child it starts; the variable is removed so grandchildren don't report too.
  if (process.env.HEADROOM_IPC === '1' && typeof process.send === 'function') {
    delete process.env.HEADROOM_IPC;
    attachIpcReporter(manager);
  }
  if (process.env.HEADROOM_DASHBOARD === '1') attachConsoleDashboard(manager, process.stderr);
}
