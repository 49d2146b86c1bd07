import fc from 'fast-check';
import { normalisePhone, validateLead } from './lead';
import { maskEmail, maskPhone } from './mask';

describe('validateLead', () => {
  const valid = {
    name: 'John',
    phone: '+1 415 555 0100',
    email: 'John@Example.com',
    geo: 'US',
    source: 'Facebook',
    fields: { zip: '94107', age: 42, vip: true },
  };

  it('normalises phone to E.164 and lower-cases email', () => {
    const r = validateLead(valid);
    expect(r).toEqual({
      ok: true,
      lead: {
        name: 'John',
        phone: '+14155550100',
        email: 'john@example.com',
        geo: 'US',
        source: 'Facebook',
        fields: { zip: '94107', age: 42, vip: true },
        consent: null,
      },
    });
  });

  it('uses geo as the default region for national numbers', () => {
    expect(validateLead({ name: 'Jo', phone: '020 7946 0958', geo: 'GB' })).toMatchObject({
      ok: true,
      lead: { phone: '+442079460958' },
    });
    expect(validateLead({ name: 'Jo', phone: '(415) 555-0100', geo: 'US' })).toMatchObject({
      ok: true,
      lead: { phone: '+14155550100' },
    });
  });

  it('rejects a national number without geo, saying how to fix it', () => {
    const r = validateLead({ name: 'Jo', phone: '415 555 0100' });
    expect(r.ok).toBe(false);
    expect(!r.ok && r.errors).toEqual([{ field: '/phone', message: expect.stringContaining('international format') }]);
  });

  it('lists every problem with its JSON pointer', () => {
    const r = validateLead({
      name: '',
      phone: 'x',
      email: 'nope',
      geo: 'us',
      source: 'a'.repeat(101),
      fields: { nested: { a: 1 } },
      extra: 1,
    });
    expect(r.ok).toBe(false);
    const fields = !r.ok ? r.errors.map((e) => e.field).sort() : [];
    expect(fields).toEqual(['/email', '/extra', '/fields/nested', '/geo', '/name', '/phone', '/source']);
  });

  it('requires name and phone', () => {
    const r = validateLead({});
    expect(!r.ok && r.errors.map((e) => e.field).sort()).toEqual(['/name', '/phone']);
  });

  it('rejects unknown countries and more than 50 custom fields', () => {
    expect(validateLead({ ...valid, geo: 'ZZ' })).toMatchObject({ ok: false, errors: [{ field: '/geo' }] });
    const fields = Object.fromEntries(Array.from({ length: 51 }, (_, i) => [`f${i}`, i]));
    expect(validateLead({ ...valid, fields })).toMatchObject({ ok: false, errors: [{ field: '/fields' }] });
  });

  it('accepts consent with an https certificate URL', () => {
    const r = validateLead({ ...valid, consent: { tcpa: true, certificateUrl: 'https://cert.example.com/abc' } });
    expect(r).toMatchObject({
      ok: true,
      lead: { consent: { tcpa: true, certificateUrl: 'https://cert.example.com/abc' } },
    });
  });

  it('never throws, whatever it is given', () => {
    fc.assert(
      fc.property(fc.anything(), (input) => {
        const r = validateLead(input);
        expect(typeof r.ok).toBe('boolean');
      }),
      { numRuns: 500 },
    );
  });
});

describe('normalisePhone', () => {
  it('returns null for invalid numbers', () => {
    expect(normalisePhone('+1 000', null)).toBeNull();
    expect(normalisePhone('hello', 'US')).toBeNull();
  });
});

describe('masking', () => {
  it('hides most of a phone number and an email local part', () => {
    expect(maskPhone('+14155550100')).toBe('+1415*****00');
    expect(maskEmail('john.doe@example.com')).toBe('j*******@example.com');
    expect(maskEmail('j@x.io')).toBe('j***@x.io');
  });
});
