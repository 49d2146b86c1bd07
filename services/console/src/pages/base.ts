/** Where the ingest serves the console. */
export const BASE = '/console';
