import * as admin from './routes-admin.js';
import * as consoleSession from './routes-console.js';
import * as leads from './routes-leads.js';
import * as money from './routes-money.js';
import * as operations from './routes-operations.js';
import * as reports from './routes-reports.js';
import type { RouteSpec } from './table.js';

/** Every entry of the route table (ADR 0019). */
export const ROUTES: readonly RouteSpec[] = [
  ...Object.values(leads),
  ...Object.values(admin),
  ...Object.values(operations),
  ...Object.values(consoleSession),
  ...Object.values(money),
  ...Object.values(reports),
];
export { admin, consoleSession, leads, money, operations, reports };
