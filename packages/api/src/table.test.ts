import { componentSchemas } from './components';
import { pathsOf } from './openapi';
import { ROUTES } from './routes';

describe('the route table', () => {
  it('names each operation once, and each path parameter in its params schema', () => {
    const ids = ROUTES.map((r) => r.operationId);
    expect(new Set(ids).size).toBe(ids.length);
    for (const r of ROUTES) {
      const placeholders = [...r.path.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();
      expect({ op: r.operationId, params: Object.keys(r.params?.properties ?? {}).sort() }).toEqual({
        op: r.operationId,
        params: placeholders,
      });
      if (placeholders.length > 0)
        expect({ op: r.operationId, resource: r.resource }).toEqual({
          op: r.operationId,
          resource: expect.any(String),
        });
    }
  });

  it('generates an operation per entry, with the answers of its kind, referring to named schemas', () => {
    const paths = pathsOf(ROUTES);
    for (const r of ROUTES) {
      const op = paths[r.path]![r.method]! as { responses: Record<string, unknown>; operationId: string };
      expect(op.operationId).toBe(r.operationId);
      const statuses = Object.keys(op.responses);
      expect(statuses).toEqual(expect.arrayContaining(['500', '503']));
      if (r.body) expect(statuses).toEqual(expect.arrayContaining(['400', '413', '415', '422']));
      if (r.party === 'admin') expect(statuses).toContain('401');
    }
    const refs = JSON.stringify(paths).match(/#\/components\/schemas\/\w+/g) ?? [];
    const named = new Set(componentSchemas().keys());
    expect(refs.map((r) => r.split('/').pop()).filter((n) => !named.has(n!))).toEqual([]);
  });
});
