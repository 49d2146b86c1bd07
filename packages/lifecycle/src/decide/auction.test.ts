import { rankBids } from './auction';

describe('rankBids', () => {
  it('highest bid first, exact; ties keep the route’s list order', () => {
    const decision = rankBids(
      [
        { partnerId: 'a', outcome: 'bid', bid: '10.1' },
        { partnerId: 'b', outcome: 'bid', bid: '12.5' },
        { partnerId: 'c', outcome: 'bid', bid: '10.10' },
        { partnerId: 'd', outcome: 'bid', bid: '10.1001' },
      ],
      '0',
    );
    expect(decision.ranked).toEqual([
      { partnerId: 'b', bid: '12.5000' },
      { partnerId: 'd', bid: '10.1001' },
      { partnerId: 'a', bid: '10.1000' },
      { partnerId: 'c', bid: '10.1000' },
    ]);
    expect(decision.lost).toEqual([]);
  });

  it('below the floor, no bid, late and failed pings take no part, each with why', () => {
    const decision = rankBids(
      [
        { partnerId: 'low', outcome: 'bid', bid: '4.9999' },
        { partnerId: 'at', outcome: 'bid', bid: '5' },
        { partnerId: 'none', outcome: 'no_bid' },
        { partnerId: 'late', outcome: 'timeout' },
        { partnerId: 'broken', outcome: 'error' },
      ],
      '5',
    );
    expect(decision.ranked).toEqual([{ partnerId: 'at', bid: '5.0000' }]);
    expect(decision.lost).toEqual([
      { partnerId: 'low', why: 'below_floor' },
      { partnerId: 'none', why: 'no_bid' },
      { partnerId: 'late', why: 'timeout' },
      { partnerId: 'broken', why: 'error' },
    ]);
  });

  it('no candidates, or none bidding: nothing ranked', () => {
    expect(rankBids([], '0')).toEqual({ ranked: [], lost: [] });
    expect(rankBids([{ partnerId: 'x', outcome: 'no_bid' }], '0').ranked).toEqual([]);
  });
});
