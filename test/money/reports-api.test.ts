import { amount, formatAmount } from '@leadrouter/money';
import { FakePartner } from '../support/partner';
import { ADMIN_TOKEN, sampleLead, TestStack } from '../support/stack';
import { waitFor } from '../support/wait';

// Reports (README "Reports"; ADR 0028) over a known set of leads made through the real API and worker: sales,
// a duplicate, an invalid post, an unmatched and an unsold lead, conversions, an approved return, a reversal.
// The figures, each grouping, the CSV, the limits, and what a source sees of its own.

describe('reports', () => {
  const stack = new TestStack();
  const fakes: FakePartner[] = [];
  let phones = 0;
  let acme: { id: string; name: string; feedbackKey: string };
  let beta: { id: string; name: string; feedbackKey: string };
  let a: { id: string; apiKey: string; name: string };
  let b: { id: string; apiKey: string; name: string };
  const leads: Record<string, string> = {};
  const today = new Date().toISOString().slice(0, 10);
  const tomorrow = new Date(Date.parse(today) + 86_400_000).toISOString().slice(0, 10);

  const lead = (overrides: Record<string, unknown> = {}) =>
    sampleLead({
      phone: `+1 415 555 ${String(2000 + ++phones).padStart(4, '0')}`,
      email: `report${phones}@example.com`,
      ...overrides,
    });
  const post = async (key: string, body: unknown, status = 202): Promise<string> => {
    const res = await stack.request('POST', '/v1/leads', { key, body });
    expect(res.status).toBe(status);
    return res.body?.id;
  };
  const feedback = async (key: string, body: unknown) => {
    const res = await stack.request('POST', '/v1/feedback', { key, body });
    expect(res.status).toBe(202);
  };
  const report = (query: string, key = ADMIN_TOKEN) => stack.request('GET', `/v1/admin/reports?${query}`, { key });
  const ownReport = (query: string, key: string) => stack.request('GET', `/v1/reports?${query}`, { key });

  beforeAll(async () => {
    await stack.start();
    const start = async (fake: FakePartner) => (fakes.push(await fake.start()), fake);
    const acmeFake = await start(new FakePartner(() => ({ status: 200, body: { ok: true } })));
    const betaFake = await start(new FakePartner(() => ({ status: 200, body: { ok: true } })));
    const refusing = await start(new FakePartner(() => ({ status: 400 })));
    acme = await stack.createPartner({
      url: acmeFake.url,
      name: 'acme',
      price: 10,
      conversionPrice: 40,
      returns: { windowDays: 30, autoApprove: true },
    });
    beta = await stack.createPartner({ url: betaFake.url, name: 'beta', price: '7.25' });
    const never = await stack.createPartner({ url: refusing.url, name: 'refusing', price: 50 });
    await stack.createRoute({ name: 'us', filters: { geo: ['US'] }, partners: [{ partnerId: acme.id }] });
    await stack.createRoute({ name: 'ca', filters: { geo: ['CA'] }, partners: [{ partnerId: beta.id }] });
    await stack.createRoute({ name: 'gb', filters: { geo: ['GB'] }, partners: [{ partnerId: never.id }] });
    a = await stack.createSource({
      name: 'Leads, Inc.',
      duplicateWindowHours: 24,
      payout: { model: 'cpl', amount: 4 },
    });
    b = await stack.createSource({ name: 'beta-affiliate', payout: { model: 'revshare', percent: 50 } });

    // Source A: three US leads sold to acme, a duplicate, an invalid post, a lead no route takes.
    leads.a1 = await post(a.apiKey, lead({ source: 'Facebook' }));
    leads.a2 = await post(a.apiKey, lead({ source: 'Facebook' }));
    leads.a3 = await post(a.apiKey, lead({ source: '=cmd|calc' }));
    await post(a.apiKey, sampleLead({ phone: '+1 415 555 2001', email: 'again@example.com', source: 'Facebook' }), 409);
    await post(a.apiKey, { name: 'No Phone', geo: 'US' }, 422);
    leads.a4 = await post(a.apiKey, lead({ geo: 'DE', source: undefined }));
    // Source B: two CA leads sold to beta, one GB lead every partner refuses.
    leads.b1 = await post(b.apiKey, lead({ geo: 'CA', source: 'Google' }));
    leads.b2 = await post(b.apiKey, lead({ geo: 'CA', source: 'Google' }));
    leads.b3 = await post(b.apiKey, lead({ geo: 'GB', source: 'Google' }));
    const settled = Object.fromEntries(
      await Promise.all(Object.entries(leads).map(async ([k, id]) => [k, await stack.finalStatus(id)])),
    );
    expect(settled).toEqual({
      a1: 'delivered',
      a2: 'delivered',
      a3: 'delivered',
      a4: 'unmatched',
      b1: 'delivered',
      b2: 'delivered',
      b3: 'unsold',
    });
    // acme: a conversion (its conversionPrice, 40), a return (approved at once), a conversion then reversed;
    // beta: a conversion of 20.
    await feedback(acme.feedbackKey, { leadId: leads.a1, event: 'converted', eventId: 'c1' });
    await feedback(acme.feedbackKey, { leadId: leads.a2, event: 'returned', reason: 'bad number', eventId: 'r2' });
    await feedback(acme.feedbackKey, { leadId: leads.a3, event: 'converted', eventId: 'c3' });
    await feedback(acme.feedbackKey, { leadId: leads.a3, event: 'reversed', eventId: 'x3' });
    await feedback(beta.feedbackKey, { leadId: leads.b1, event: 'converted', amount: 20, eventId: 'c4' });
    await waitFor(async () => (await stack.leadStatus(leads.a2!)) === 'returned', { what: 'the return approved' });
  }, 60_000);
  afterAll(async () => {
    await Promise.all(fakes.map((f) => f.stop()));
    await stack.stop();
  });

  const zero = { leads: 0, accepted: 0, duplicates: 0, sold: 0, unsold: 0, unmatched: 0, deadLettered: 0 };
  const noAuction = { pings: 0, bids: 0, wins: 0, winRate: null, averageBid: null };

  it('by partner: each partner its sales, events and money; no partner: the leads’ own figures', async () => {
    const res = await report(`groupBy=partner&since=${today}&until=${tomorrow}`);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      since: `${today}T00:00:00.000Z`,
      until: `${tomorrow}T00:00:00.000Z`,
      tz: 'UTC',
      currency: 'USD',
      groupBy: ['partner'],
      items: [
        {
          partner: null,
          leads: 9,
          accepted: 7,
          duplicates: 1,
          sold: 5,
          unsold: 1,
          unmatched: 1,
          deadLettered: 0,
          converted: 0,
          returned: 0,
          reversed: 0,
          revenue: '0.0000',
          cost: '0.0000',
          margin: '0.0000',
          conversionRate: 0,
          returnRate: 0,
          ...noAuction,
        },
        {
          partner: { id: acme.id, name: 'acme' },
          ...zero,
          sold: 3,
          converted: 2,
          returned: 1,
          reversed: 1,
          // 3 × 10 + 2 × 40 − 10 (return) − 40 (reversal); cost: 3 × 4 cpl − 4 clawed back.
          revenue: '60.0000',
          cost: '8.0000',
          margin: '52.0000',
          conversionRate: 0.6667,
          returnRate: 0.3333,
          ...noAuction,
        },
        {
          partner: { id: beta.id, name: 'beta' },
          ...zero,
          sold: 2,
          converted: 1,
          returned: 0,
          reversed: 0,
          // 2 × 7.25 + 20; cost: half of each.
          revenue: '34.5000',
          cost: '17.2500',
          margin: '17.2500',
          conversionRate: 0.5,
          returnRate: 0,
          ...noAuction,
        },
      ],
    });
  });

  it('matches the ledger: revenue and cost are the sums of every lead’s entries', async () => {
    let revenue = amount('0');
    let cost = amount('0');
    for (const id of Object.values(leads)) {
      const view = (await stack.request('GET', `/v1/leads/${id}`, { key: ADMIN_TOKEN })).body;
      revenue = revenue.plus(amount(String(view.money.revenue)));
      cost = cost.plus(amount(String(view.money.cost)));
    }
    const [total] = (await report(`groupBy=day&since=${today}&until=${tomorrow}`)).body.items;
    expect({ revenue: total.revenue, cost: total.cost, margin: total.margin }).toEqual({
      revenue: formatAmount(revenue),
      cost: formatAmount(cost),
      margin: formatAmount(revenue.minus(cost)),
    });
  });

  it('the stats have each partner’s and source’s money and rates, exactly as the report', async () => {
    const stats = (await stack.admin('GET', '/stats')).body;
    const money = (x: Record<string, unknown>) => {
      const { sales, conversions, returns, reversals, revenue, cost, margin } = x;
      const { conversionRate, returnRate, reversalRate } = x;
      return {
        sales,
        conversions,
        returns,
        reversals,
        revenue,
        cost,
        margin,
        conversionRate,
        returnRate,
        reversalRate,
      };
    };
    const partner = (id: string) => money(stats.partners.find((p: { partnerId: string }) => p.partnerId === id));
    const source = (id: string) => money(stats.sources.find((p: { sourceId: string }) => p.sourceId === id));
    const acmeFigures = {
      sales: 3,
      conversions: 2,
      returns: 1,
      reversals: 1,
      revenue: '60.0000',
      cost: '8.0000',
      margin: '52.0000',
      conversionRate: 0.6667,
      returnRate: 0.3333,
      reversalRate: 0.5,
    };
    expect(partner(acme.id)).toEqual(acmeFigures);
    expect(source(a.id)).toEqual(acmeFigures);
    const betaFigures = {
      sales: 2,
      conversions: 1,
      returns: 0,
      reversals: 0,
      revenue: '34.5000',
      cost: '17.2500',
      margin: '17.2500',
      conversionRate: 0.5,
      returnRate: 0,
      reversalRate: 0,
    };
    expect(partner(beta.id)).toEqual(betaFigures);
    expect(source(b.id)).toEqual(betaFigures);
    expect(money(stats)).toEqual({
      sales: 5,
      conversions: 3,
      returns: 1,
      reversals: 1,
      revenue: '94.5000',
      cost: '25.2500',
      margin: '69.2500',
      conversionRate: 0.6,
      returnRate: 0.2,
      reversalRate: 0.3333,
    });
  });

  it('by source, by day, by hour, by geo and channel: the same leads from each side', async () => {
    const bySource = (await report(`groupBy=source&since=${today}&until=${tomorrow}`)).body.items;
    expect(bySource).toEqual([
      {
        source: { id: a.id, name: 'Leads, Inc.' },
        ...zero,
        leads: 6,
        accepted: 4,
        duplicates: 1,
        sold: 3,
        unmatched: 1,
        converted: 2,
        returned: 1,
        reversed: 1,
        revenue: '60.0000',
        cost: '8.0000',
        margin: '52.0000',
        conversionRate: 0.6667,
        returnRate: 0.3333,
        ...noAuction,
      },
      {
        source: { id: b.id, name: 'beta-affiliate' },
        ...zero,
        leads: 3,
        accepted: 3,
        sold: 2,
        unsold: 1,
        converted: 1,
        returned: 0,
        reversed: 0,
        revenue: '34.5000',
        cost: '17.2500',
        margin: '17.2500',
        conversionRate: 0.5,
        returnRate: 0,
        ...noAuction,
      },
    ]);
    const totals = {
      leads: 9,
      accepted: 7,
      duplicates: 1,
      sold: 5,
      unsold: 1,
      unmatched: 1,
      deadLettered: 0,
      converted: 3,
      returned: 1,
      reversed: 1,
      revenue: '94.5000',
      cost: '25.2500',
      margin: '69.2500',
      conversionRate: 0.6,
      returnRate: 0.2,
      ...noAuction,
    };
    expect((await report(`groupBy=day&since=${today}&until=${tomorrow}`)).body.items).toEqual([
      { day: today, ...totals },
    ]);
    // By hour: the same sums over the hours they fell in (the test may straddle an hour).
    const hours = (await report(`groupBy=hour&since=${today}&until=${tomorrow}`)).body.items;
    expect(hours.every((h: { hour: string }) => h.hour.startsWith(today) && h.hour.endsWith(':00:00.000Z'))).toBe(true);
    const sum = (items: Record<string, number>[], k: string) => items.reduce((n, i) => n + i[k]!, 0);
    expect(sum(hours, 'leads')).toBe(9);
    expect(sum(hours, 'converted')).toBe(3);
    // Two keys, in the order asked.
    const byPartnerDay = (await report(`groupBy=partner,day&since=${today}&until=${tomorrow}`)).body.items;
    expect(Object.keys(byPartnerDay[1]).slice(0, 3)).toEqual(['partner', 'day', 'leads']);
    const byDayPartner = (await report(`groupBy=day,partner&since=${today}&until=${tomorrow}`)).body.items;
    expect(Object.keys(byDayPartner[1]).slice(0, 3)).toEqual(['day', 'partner', 'leads']);
    expect(byDayPartner.map((i: { partner: { name: string } | null }) => i.partner?.name ?? null)).toEqual([
      null,
      'acme',
      'beta',
    ]);
    const byGeo = (await report(`groupBy=geo,channel&since=${today}&until=${tomorrow}`)).body.items;
    expect(
      byGeo.map((i: Record<string, unknown>) => [i.geo, i.channel, i.leads, i.accepted, i.sold, i.revenue]),
    ).toEqual([
      // The invalid post has no geo; the duplicate is counted with its own geo and channel.
      [null, null, 1, 0, 0, '0.0000'],
      ['CA', 'Google', 2, 2, 2, '34.5000'],
      ['DE', null, 1, 1, 0, '0.0000'],
      ['GB', 'Google', 1, 1, 0, '0.0000'],
      ['US', '=cmd|calc', 1, 1, 1, '10.0000'],
      ['US', 'Facebook', 3, 2, 2, '50.0000'],
    ]);
  });

  it('as CSV: one header row, the same columns, quoted, with a file name', async () => {
    const res = await stack.request(
      'GET',
      `/v1/admin/reports?groupBy=source,channel&since=${today}&until=${tomorrow}&format=csv`,
      {
        key: ADMIN_TOKEN,
      },
    );
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/csv; charset=utf-8');
    expect(res.headers.get('content-disposition')).toBe(
      `attachment; filename="leadrouter-report-${today}-${tomorrow}-source-channel.csv"`,
    );
    const text = res.body as string;
    expect(text.endsWith('\r\n')).toBe(true);
    const lines = text.split('\r\n').slice(0, -1);
    expect(lines[0]).toBe(
      'source.id,source.name,channel,leads,accepted,duplicates,sold,unsold,unmatched,deadLettered,converted,returned,reversed,revenue,cost,margin,conversionRate,returnRate,pings,bids,wins,winRate,averageBid,currency',
    );
    expect(lines.slice(1)).toEqual([
      `${a.id},"Leads, Inc.",,2,1,0,0,0,1,0,0,0,0,0.0000,0.0000,0.0000,,,0,0,0,,,USD`,
      // A channel a spreadsheet would run as a formula is written as text.
      `${a.id},"Leads, Inc.",'=cmd|calc,1,1,0,1,0,0,0,1,0,1,10.0000,4.0000,6.0000,1,0,0,0,0,,,USD`,
      `${a.id},"Leads, Inc.",Facebook,3,2,1,2,0,0,0,1,1,0,50.0000,4.0000,46.0000,0.5,0.5,0,0,0,,,USD`,
      `${b.id},beta-affiliate,Google,3,3,0,2,1,0,0,1,0,0,34.5000,17.2500,17.2500,0.5,0,0,0,0,,,USD`,
    ]);
  });

  it('refuses more than 400 days, and lists every problem of the parameters in one 422', async () => {
    const long = await report('groupBy=day&since=2025-01-01&until=2026-02-06');
    expect(long.status).toBe(422);
    expect(long.body.errors).toEqual([
      { field: 'since', message: 'a report covers at most 400 days; since to until is 401' },
    ]);
    expect((await report('groupBy=day&since=2025-01-01&until=2026-02-05')).status).toBe(200);
    const bad = await report(
      'groupBy=week,day,hour,geo&since=yesterday&until=2026-02-05T10:30:00Z&format=xml&tz=UTC&zone=UTC',
    );
    expect(bad.status).toBe(422);
    expect(bad.body.errors).toEqual([
      { field: 'zone', message: 'is not a parameter here (use groupBy, since, until, format, tz)' },
      { field: 'groupBy', message: '"week" is not a grouping (use day, hour, source, partner, geo, channel)' },
      { field: 'groupBy', message: 'takes at most 2 keys, e.g. day,partner' },
      { field: 'groupBy', message: 'takes day or hour, not both (an hour names its day)' },
      {
        field: 'groupBy',
        message: 'cannot put hour with geo or channel: hourly figures are kept per source and partner only',
      },
      {
        field: 'since',
        message: 'must be a date (2026-01-31, a UTC day) or an ISO 8601 date-time with a zone (2026-01-31T10:00:00Z)',
      },
      {
        field: 'until',
        message: 'must be a whole UTC hour (the reports are kept per hour), e.g. 2026-01-31T10:00:00Z',
      },
      { field: 'format', message: 'must be one of json, csv; got "xml"' },
    ]);
    const hoursOfAYear = await report('groupBy=hour,partner&since=2026-01-01&until=2026-02-02');
    expect(hoursOfAYear.body.errors).toEqual([
      { field: 'since', message: 'a report by hour covers at most 31 days; since to until is 32' },
    ]);
    const partOfDay = await report(`groupBy=geo&since=${today}T10:00:00Z&until=${tomorrow}`);
    expect(partOfDay.body.errors).toEqual([
      {
        field: 'since',
        message: 'must be a whole UTC day (2026-01-31) when grouping by day, geo or channel (kept per UTC day)',
      },
    ]);
    // A range of whole hours, by partner: from the hourly rollup.
    const hours = await report(`groupBy=partner&since=${today}T00:00:00Z&until=${tomorrow}T00:00:00Z`);
    expect(hours.status).toBe(200);
    expect(hours.body.items.map((i: { sold: number }) => i.sold)).toEqual([5, 3, 2]);
  });

  it('by the days of a time zone (tz): each UTC hour in its local day, a day a clock changes included', async () => {
    // New York moved its clocks on 2020-03-08 (EST, -5 h, to EDT, -4 h): that day had 23 hours. Figures at the
    // hours around its midnights, in the hourly rollup and still in the deltas, long before the other leads.
    const hourly = [
      ['2020-03-07T04:00:00Z', 1], // Mar 6, 23:00 EST (Mar 7, 13:00 in Tokyo)
      ['2020-03-07T05:00:00Z', 10], // Mar 7, 00:00 EST
      ['2020-03-08T04:00:00Z', 100], // Mar 7, 23:00 EST
      ['2020-03-08T05:00:00Z', 1000], // Mar 8, 00:00 EST
      ['2020-03-09T03:00:00Z', 10000], // Mar 8, 23:00 EDT
    ] as const;
    for (const [hour, leads] of hourly)
      await stack.db.$executeRaw`INSERT INTO report_hourly (hour, source_id, partner_id, leads, accepted)
        VALUES (${new Date(hour)}, ${b.id}::uuid, '00000000-0000-0000-0000-000000000000', ${leads}, ${leads})`;
    // Not folded yet: Mar 9, 00:00 EDT.
    await stack.db.$executeRaw`INSERT INTO report_deltas (at, source_id, leads, accepted)
      VALUES (${new Date('2020-03-09T04:00:00Z')}, ${b.id}::uuid, 100000, 100000)`;
    const days = async (query: string, key = ADMIN_TOKEN) => {
      const res = await stack.request('GET', `${key === ADMIN_TOKEN ? '/v1/admin' : '/v1'}/reports?${query}`, { key });
      expect(res.status).toBe(200);
      return (res.body.items as { day: string; leads: number }[]).map((i) => [i.day, i.leads]);
    };
    const range = 'since=2020-03-07&until=2020-03-10';
    const newYork = [
      ['2020-03-07', 110],
      ['2020-03-08', 11000],
      ['2020-03-09', 100000],
    ];
    expect(await days(`groupBy=day&${range}&tz=America/New_York`)).toEqual(newYork);
    const res = await report(`groupBy=day,source&${range}&tz=America/New_York&format=csv`);
    expect(res.headers.get('content-disposition')).toBe(
      'attachment; filename="leadrouter-report-2020-03-07-2020-03-10-day-source.csv"',
    );
    const json = await report(`groupBy=source,day&${range}&tz=America/New_York`);
    expect(json.body).toMatchObject({ since: '2020-03-07T05:00:00.000Z', until: '2020-03-10T04:00:00.000Z' });
    expect(json.body.tz).toBe('America/New_York');
    expect(json.body.currency).toBe('USD'); // CURRENCY: every amount's currency
    expect(json.body.items.map((i: { source: { name: string } }) => i.source.name)).toEqual(
      Array(3).fill('beta-affiliate'),
    );
    // Tokyo (+9 h all year): the same hours fall in other days. A source asks its own the same way.
    expect(await days(`groupBy=day&${range}&tz=Asia/Tokyo`, b.apiKey)).toEqual([
      ['2020-03-07', 11],
      ['2020-03-08', 1100],
      ['2020-03-09', 110000],
    ]);
    // Without tz, UTC days: the daily rollup (which has none of these hours) and the deltas.
    expect(await days(`groupBy=day&${range}`)).toEqual([['2020-03-09', 100000]]);

    const refused = async (query: string) => {
      const r = await report(query);
      expect(r.status).toBe(422);
      return r.body.errors;
    };
    expect(await refused(`groupBy=day&${range}&tz=Mars/Olympus`)).toEqual([
      { field: 'tz', message: 'must be an IANA time zone name, e.g. America/New_York or Europe/Paris' },
    ]);
    expect(await refused(`groupBy=day&${range}&tz=%2B05:00`)).toEqual([
      { field: 'tz', message: 'must be an IANA time zone name, e.g. America/New_York or Europe/Paris' },
    ]);
    expect(await refused(`groupBy=day&${range}&tz=Asia/Kolkata`)).toEqual([
      {
        field: 'tz',
        message:
          'is +05:30 off UTC on 2020-03-07, not whole hours: reports are kept per UTC hour, so its days cannot be made of them (leave tz out for UTC days)',
      },
    ]);
    expect(await refused(`groupBy=day,geo&${range}&tz=America/New_York`)).toEqual([
      {
        field: 'tz',
        message:
          'cannot go with geo: the days of a zone off UTC are made of hourly figures, kept per source and partner only (leave tz out for UTC days)',
      },
    ]);
    expect(await refused('groupBy=day&since=2020-03-01&until=2020-04-02&tz=America/New_York')).toEqual([
      { field: 'since', message: 'a report in America/New_York covers at most 31 days; since to until is 32' },
    ]);
    // A month with its 23-hour day is 31 days.
    expect((await report('groupBy=day&since=2020-03-01&until=2020-04-01&tz=America/New_York')).status).toBe(200);
  });

  it('refuses a report of more than 20,000 groups', async () => {
    // 20,001 channels on a day long before the others.
    await stack.db.$executeRaw`INSERT INTO report_daily (day, source_id, partner_id, geo, channel, leads)
      SELECT '2020-01-01', ${a.id}::uuid, '00000000-0000-0000-0000-000000000000', '', 'c' || i, 1
      FROM generate_series(1, 20001) AS i`;
    const many = await report('groupBy=channel&since=2020-01-01&until=2020-01-02');
    expect(many.status).toBe(422);
    expect(many.body.errors).toEqual([
      {
        field: 'groupBy',
        message: 'the report has more than 20000 groups: narrow since–until or group by fewer keys',
      },
    ]);
    expect((await report('groupBy=day&since=2020-01-01&until=2020-01-02')).body.items).toMatchObject([
      { day: '2020-01-01', leads: 20001 },
    ]);
  });

  it('a source sees its own leads and payouts only, no partner and no revenue', async () => {
    const own = await ownReport(`groupBy=day&since=${today}&until=${tomorrow}`, a.apiKey);
    expect(own.status).toBe(200);
    expect(own.body).toEqual({
      since: `${today}T00:00:00.000Z`,
      until: `${tomorrow}T00:00:00.000Z`,
      tz: 'UTC',
      currency: 'USD',
      groupBy: ['day'],
      items: [
        {
          day: today,
          leads: 6,
          accepted: 4,
          duplicates: 1,
          sold: 3,
          unsold: 0,
          unmatched: 1,
          deadLettered: 0,
          converted: 2,
          returned: 1,
          reversed: 1,
          payout: '8.0000',
          conversionRate: 0.6667,
          returnRate: 0.3333,
          pings: 0,
          bids: 0,
          posted: 0,
          winRate: null,
          averageBid: null,
        },
      ],
    });
    const other = (await ownReport(`groupBy=geo&since=${today}&until=${tomorrow}`, b.apiKey)).body.items;
    expect(other.map((i: { geo: string; leads: number; payout: string }) => [i.geo, i.leads, i.payout])).toEqual([
      ['CA', 2, '17.2500'],
      ['GB', 1, '0.0000'],
    ]);
    const text = JSON.stringify(other) + JSON.stringify(own.body);
    for (const secret of [acme.id, beta.id, 'acme', 'beta', 'revenue', 'margin', a.id === b.id ? '' : b.id])
      expect(text).not.toContain(secret);
    const csv = await ownReport(`groupBy=channel&since=${today}&until=${tomorrow}&format=csv`, b.apiKey);
    expect((csv.body as string).split('\r\n')[0]).toBe(
      'channel,leads,accepted,duplicates,sold,unsold,unmatched,deadLettered,converted,returned,reversed,payout,conversionRate,returnRate,pings,bids,posted,winRate,averageBid,currency',
    );
    const byPartner = await ownReport('groupBy=partner,source', a.apiKey);
    expect((await ownReport(`groupBy=channel&since=${today}&until=${tomorrow}`, b.apiKey)).body.currency).toBe('USD');
    expect(byPartner.status).toBe(422);
    expect(byPartner.body.errors).toEqual([
      { field: 'groupBy', message: 'a source’s report holds its own figures only: no source or partner' },
    ]);
    expect((await ownReport('groupBy=day', ADMIN_TOKEN)).status).toBe(401);
    expect((await stack.request('GET', '/v1/admin/reports', { key: a.apiKey })).status).toBe(401);
  });
});
