import fc from 'fast-check';
import { storableText, UNSTORABLE } from './storable';

/** Any UTF-16 string, lone surrogates and NUL included (fast-check's default strings are well-formed). */
const anyUtf16 = fc.string({ unit: fc.integer({ min: 0, max: 0xffff }).map((u) => String.fromCharCode(u)) });
const codePoints = (s: string) => [...s].length;

describe('storableText', () => {
  it('drops NUL and replaces lone surrogates, keeping pairs', () => {
    expect(storableText('ok\u0000bad')).toBe('okbad');
    expect(storableText('\ud800 and \udc00 and \udc00\ud800')).toBe('\ufffd and \ufffd and \ufffd\ufffd');
    expect(storableText('emoji 😀 stays')).toBe('emoji 😀 stays');
  });

  it('cuts on characters, never inside a surrogate pair', () => {
    // 499 ASCII characters and an emoji: 500 characters, 501 UTF-16 units.
    const text = 'x'.repeat(499) + '😀';
    expect(storableText(text, { chars: 500 })).toBe(text);
    expect(storableText(text + 'y', { chars: 500 })).toBe(text);
    expect(storableText(text, { chars: 499 })).toBe('x'.repeat(499));
    expect(storableText('é😀', { bytes: 5 })).toBe('é');
    expect(storableText('é😀', { bytes: 6 })).toBe('é😀');
  });

  it('gives text PostgreSQL can store, within the limits, as a prefix of the cleaned text', () => {
    fc.assert(
      fc.property(
        anyUtf16,
        fc.option(fc.nat(300), { nil: undefined }),
        fc.option(fc.nat(600), { nil: undefined }),
        (input, chars, bytes) => {
          const out = storableText(input, { chars, bytes });
          expect(UNSTORABLE.test(out)).toBe(false);
          // Well-formed: it survives UTF-8 encoding unchanged (JSON.stringify writes no \ud800 escape for it).
          expect(Buffer.from(out, 'utf8').toString('utf8')).toBe(out);
          if (chars !== undefined) expect(codePoints(out)).toBeLessThanOrEqual(chars);
          if (bytes !== undefined) expect(Buffer.byteLength(out)).toBeLessThanOrEqual(bytes);
          const cleaned = storableText(input);
          expect(cleaned.startsWith(out)).toBe(true);
          // Nothing is cut that the limits allowed.
          if (out !== cleaned) {
            const nextChar = [...cleaned.slice(out.length)][0]!;
            const overChars = chars !== undefined && codePoints(out) + 1 > chars;
            const overBytes = bytes !== undefined && Buffer.byteLength(out + nextChar) > bytes;
            expect(overChars || overBytes).toBe(true);
          }
        },
      ),
      { numRuns: 1000 },
    );
  });
});
