import { statusPullProblems, statusPullSettings, statusPullUrl, statusPullWindow } from './status-pull';

const base = { url: 'https://crm.example/v1/statuses', itemsPath: 'data', referencePath: 'id', statusPath: 'status' };

describe('statusPullProblems', () => {
  it('takes {{from}} and {{to}} anywhere in an http(s) URL', () => {
    expect(statusPullProblems({ ...base, url: 'https://crm.example/s?from={{from}}&to={{to}}' })).toEqual([]);
    expect(statusPullProblems({ ...base, url: 'http://crm.example/{{from}}/{{to}}/x' })).toEqual([]);
  });

  it('names each placeholder it does not know, and a URL that is none once they are filled in', () => {
    expect(statusPullProblems({ ...base, url: 'https://crm.example/s?since={{since}}&until={{ to }}' })).toEqual([
      {
        field: '/statusPull/url',
        message: 'holds `{{since}}`, `{{ to }}`: the only placeholders are `{{from}}` and `{{to}}`',
      },
    ]);
    expect(statusPullProblems({ ...base, url: 'http://{{from}}/x' })[0]?.message).toMatch(/not an http\(s\) URL/);
    expect(statusPullProblems({ ...base, url: 'https://user:secret@crm.example/s' })[0]?.message).toMatch(
      /credentials/,
    );
  });

  it('holds headers to the rules of delivery headers, and the page parameters apart', () => {
    const errors = statusPullProblems(
      {
        ...base,
        headers: { Authorization: 'Bearer x', host: 'evil', 'X-A': 'a\nb', 'x-a': 'again' },
        page: { param: 'page', sizeParam: 'page', size: 10 },
      },
      '/statusPull',
    );
    expect(errors.map((e) => e.field)).toEqual([
      '/statusPull/headers/host',
      '/statusPull/headers/X-A',
      '/statusPull/headers/x-a',
      '/statusPull/page/sizeParam',
    ]);
  });

  it('leaves what is not an object to the schema', () => {
    expect(statusPullProblems(null)).toEqual([]);
    expect(statusPullProblems('x')).toEqual([]);
    expect(statusPullProblems({ url: 42 })).toEqual([]);
  });
});

describe('a pull’s settings and window', () => {
  it('fills in the defaults: GET, every 300 s, 72 hours back', () => {
    expect(statusPullSettings(base)).toEqual({
      ...base,
      method: 'GET',
      headers: {},
      intervalSeconds: 300,
      lookbackHours: 72,
    });
  });

  it('fills the URL with the window’s ends, URL-encoded', () => {
    const now = new Date('2026-03-10T12:00:00.000Z');
    const window = statusPullWindow({ lookbackHours: 24 }, now);
    expect(window).toEqual({ from: new Date('2026-03-09T12:00:00.000Z'), to: now });
    expect(statusPullUrl('https://crm.example/s?from={{from}}&to={{to}}', window)).toBe(
      'https://crm.example/s?from=2026-03-09T12%3A00%3A00.000Z&to=2026-03-10T12%3A00%3A00.000Z',
    );
  });
});
