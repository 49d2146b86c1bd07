import { decodeCursor, encodeCursor } from './pagination';

describe('keyset cursors', () => {
  const id = '0f8fad5b-d9cb-469f-a165-70867728950e';

  it('round-trip a time (to the millisecond) and an id, opaquely', () => {
    const at = new Date('2026-03-01T12:34:56.789Z');
    const raw = encodeCursor({ at, id });
    expect(raw).toMatch(/^[\w-]+$/);
    expect(raw).not.toContain(id);
    expect(decodeCursor(raw)).toEqual({ at, id });
    expect(decodeCursor(encodeCursor({ at, id: id.toUpperCase() }))).toEqual({ at, id });
  });

  it('refuse anything they did not write', () => {
    for (const raw of [
      '',
      'x',
      id,
      'not base64!',
      Buffer.from(`abc.${id}`).toString('base64url'),
      Buffer.from(`123.not-a-uuid`).toString('base64url'),
      Buffer.from(`9999999999999999.${id}`).toString('base64url'),
      'A'.repeat(200),
    ]) {
      expect({ raw, cursor: decodeCursor(raw) }).toEqual({ raw, cursor: null });
    }
  });
});
