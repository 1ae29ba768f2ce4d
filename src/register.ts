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
  let manager;
  try {
    manager = createMemoryManager(optionsFromEnvironment(process.env));
  } catch (err) {
    // Name the source of the bad value: the option names in the message map to HEADROOM_* variables.
    const message = err instanceof Error ? err.message : String(err);
    throw new Error(`headroom/register: ${message} (set through HEADROOM_* environment variables)`, { cause: err });
  }

  setDefaultManager(manager);
  manager.start();

  // `headroom run` sets HEADROOM_IPC in the child it starts; the variable is removed so grandchildren don't report too.
  if (process.env.HEADROOM_IPC === '1' && typeof process.send === 'function') {
    delete process.env.HEADROOM_IPC;
    attachIpcReporter(manager);
  }
  if (process.env.HEADROOM_DASHBOARD === '1') attachConsoleDashboard(manager, process.stderr);
}
