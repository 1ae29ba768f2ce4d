/**
 * The `headroom demo` service with the dashboard and the HTTP API served
 * beside it on DASHBOARD_PORT, at /headroom/. Started by
 * dashboard-screenshot.mjs under `headroom run`'s supervisor, so the real
 * manager samples the real leaky service. Needs `npm run build` first.
 */
import { getDefaultManager } from '../dist/src/manager/default.js';
import { startDashboardServer } from '../dist/test/helpers/dashboard-server.js';
import '../dist/src/demo/service.js';

const manager = getDefaultManager();
if (manager === null) throw new Error('No headroom manager: start this file with --import headroom/register, as dashboard-screenshot.mjs does');

const server = await startDashboardServer(manager, { port: Number(process.env.DASHBOARD_PORT), prefix: '/headroom' });
process.once('SIGTERM', () => void server.close());
