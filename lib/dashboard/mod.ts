/**
 * The dashboard: its routes (the page, its login, its JSON API and event stream), who may use
 * it, the state it shows, the server-sent events that push that state, and the ring of recent
 * failed launches it lists.
 *
 * @module
 */

export { COOKIE_NAME, DashboardForbiddenError } from "./auth.ts";
export { DashboardEvents } from "./events.ts";
export { RecentFailures } from "./recent_failures.ts";
export { dashboardAnnouncement, dashboardRoutes } from "./routes.ts";
export { stateReader } from "./state.ts";
