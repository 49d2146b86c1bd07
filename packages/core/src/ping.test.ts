import { auctionProblems, auctionSettings, pingProblems, pingSettings } from './ping';

describe('pingProblems', () => {
  it('a field map naming name, phone or email is an error by field', () => {
    expect(
      pingProblems({
        url: 'https://b.example/ping',
        fieldMap: { zip: 'fields.zip', n: 'name', 'a/b': 'phone', m: 'email' },
      }),
    ).toEqual([
      { field: '/ping/fieldMap/n', message: expect.stringMatching(/no contact data/) },
      { field: '/ping/fieldMap/a~1b', message: expect.stringMatching(/no contact data/) },
      { field: '/ping/fieldMap/m', message: expect.stringMatching(/no contact data/) },
    ]);
  });

  it('the headers follow the rules of deliveries; the URL has no credentials', () => {
    expect(pingProblems({ url: 'https://u:p@b.example/ping', headers: { Host: 'x' } }).map((e) => e.field)).toEqual([
      '/ping/headers/Host',
      '/ping/url',
    ]);
    expect(pingProblems({ url: 'https://b.example/ping', fieldMap: { zip: 'fields.zip' } })).toEqual([]);
    expect(pingProblems(null)).toEqual([]);
  });
});

describe('settings', () => {
  it('fill in the defaults', () => {
    expect(pingSettings({ url: 'https://b.example' })).toEqual({
      url: 'https://b.example',
      method: 'POST',
      headers: {},
      timeoutMs: 500,
      bidPath: 'bid',
    });
    expect(auctionSettings(null)).toEqual({ timeoutMs: 800, floor: '0' });
    expect(auctionSettings({ floor: '2.5' })).toEqual({ timeoutMs: 800, floor: '2.5' });
  });

  it('an auction is for auction routes only', () => {
    expect(auctionProblems({ strategy: 'priority', auction: { timeoutMs: 500 } })).toEqual([
      { field: '/auction', message: expect.any(String) },
    ]);
    expect(auctionProblems({ strategy: 'auction', auction: { timeoutMs: 500 } })).toEqual([]);
  });
});
