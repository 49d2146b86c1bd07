import { compile } from './validation';
import { isUuid, UUID_RE } from './ids';

describe('the one form of id', () => {
  const id = '0f8fad5b-d9cb-469f-a165-70867728950e';
  const others = [
    '',
    id.replace(/-/g, ''),
    `urn:uuid:${id}`,
    `{${id}}`,
    `${id.slice(0, 9)}${id.slice(10, 14)}-${id.slice(14)}`,
    `${id}\n`,
    `${id.slice(0, 35)}g`,
  ];

  it('is a canonical UUID, in either case', () => {
    expect([id, id.toUpperCase()].map(isUuid)).toEqual([true, true]);
    expect(others.map((s) => [s, isUuid(s)])).toEqual(others.map((s) => [s, false]));
    expect(isUuid(42)).toBe(false);
  });

  it('is what `format: "uuid"` checks in every schema', () => {
    const validate = compile({ type: 'string', format: 'uuid' });
    expect([id, id.toUpperCase(), ...others].map((s) => validate(s))).toEqual([true, true, ...others.map(() => false)]);
    expect(UUID_RE.test(id)).toBe(true);
  });
});
