// A pool of varied, realistic leads, generated up front so the load
// generator spends no time on it: different names, phones (national and
// international formats, several countries), emails, channels and custom
// fields. Every phone is checked with the same normalisation the ingest uses,
// so every lead in the pool is one the ingest accepts.
'use strict';

const FIRST = [
  'John',
  'Maria',
  'Wei',
  'Aisha',
  'Carlos',
  'Emma',
  'Liam',
  'Sofia',
  'Noah',
  'Olivia',
  'Hiroshi',
  'Fatima',
];
const LAST = ['Smith', 'García', 'Chen', 'Khan', 'Müller', 'Dubois', 'Rossi', 'Nguyen', 'Brown', 'Kowalski', "O'Brien"];
const DOMAINS = ['example.com', 'example.org', 'mail.example.net', 'inbox.example.co.uk'];
const CHANNELS = ['Facebook', 'Google Ads', 'TikTok', 'Email', 'Organic', 'Affiliate 17', 'Native'];
const PRODUCTS = ['auto', 'home', 'life', 'health', 'solar', 'mortgage'];

/** Per country: ways to write a random number there (national and international formats). */
const PHONES = {
  US: [
    (d) => `+1 ${pick(['415', '212', '310', '646', '702', '512'], d)} ${digits(d, 3, 2)} ${digits(d, 4)}`,
    (d) => `(${pick(['617', '303', '206', '305'], d)}) ${digits(d, 3, 2)}-${digits(d, 4)}`,
  ],
  CA: [(d) => `+1 ${pick(['416', '604', '514', '403'], d)} ${digits(d, 3, 2)} ${digits(d, 4)}`],
  GB: [(d) => `07${pick(['400', '700', '911', '535'], d)} ${digits(d, 6)}`],
  DE: [(d) => `+49 15${pick(['1', '2', '7'], d)} ${digits(d, 8)}`],
  FR: [(d) => `06 ${digits(d, 2)} ${digits(d, 2)} ${digits(d, 2)} ${digits(d, 2)}`],
  AU: [(d) => `04${digits(d, 2)} ${digits(d, 3)} ${digits(d, 3)}`],
};
const GEOS = Object.keys(PHONES);

/** A small deterministic generator (mulberry32), so two runs post the same pool. */
function rng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
function pick(list, random) {
  return list[Math.floor(random() * list.length)];
}
/** `n` random digits; the first one at least `min` (exchanges and area codes cannot start with 0 or 1). */
function digits(random, n, min = 0) {
  let s = String(min + Math.floor(random() * (10 - min)));
  for (let i = 1; i < n; i++) s += String(Math.floor(random() * 10));
  return s;
}

/**
 * `size` distinct leads (no phone or email twice) as ready-to-send JSON bodies.
 * `normalisePhone` is @leadrouter/core's: numbers it refuses are drawn again.
 */
function leadPool(size, { normalisePhone, seed = 7 }) {
  const random = rng(seed);
  const phones = new Set();
  const bodies = [];
  while (bodies.length < size) {
    const geo = pick(GEOS, random);
    const raw = pick(PHONES[geo], random)(random);
    const e164 = normalisePhone(raw, geo);
    if (!e164 || phones.has(e164)) continue;
    phones.add(e164);
    const first = pick(FIRST, random);
    const last = pick(LAST, random);
    const n = bodies.length;
    const lead = {
      name: `${first} ${last}`,
      phone: raw,
      email: `${first}.${last}.${n}@${pick(DOMAINS, random)}`.toLowerCase().replace(/[^a-z0-9.@-]/g, ''),
      geo,
      source: pick(CHANNELS, random),
      fields: {
        product: pick(PRODUCTS, random),
        age: 18 + Math.floor(random() * 60),
        homeowner: random() < 0.6,
        ...(random() < 0.5 ? { zip: digits(random, 5) } : {}),
        ...(random() < 0.3 ? { note: 'call after 5pm please, mornings are busy' } : {}),
      },
    };
    if (random() < 0.4) lead.consent = { tcpa: true, certificateUrl: `https://cert.example.com/${n}` };
    bodies.push(JSON.stringify(lead));
  }
  return bodies;
}

module.exports = { leadPool };
