// The one pagination scheme is @leadrouter/api's (ADR 0019).
export { decodeCursor, encodeCursor, type Cursor, type Page } from '@leadrouter/api';
