import { describe, expect, it } from 'vitest';
import { hrefOf, parseRoute } from './router';

describe('parseRoute', () => {
  it.each([
    ['/console/', { view: 'customer' }],
    ['/console/customers', { view: 'customer' }],
    ['/console/customers/user_2abcXYZ', { view: 'customer', userId: 'user_2abcXYZ' }],
    ['/console/customers/a%2Fb%20c', { view: 'customer', userId: 'a/b c' }],
    ['/console/approvals', { view: 'approvals' }],
    ['/console/bulk', { view: 'bulk' }],
    ['/console/bulk/bulk_1', { view: 'bulk', id: 'bulk_1' }],
    ['/console/operators', { view: 'operators' }],
    ['/console/operators/x', { view: 'not-found', path: '/console/operators/x' }],
    ['/console/nope', { view: 'not-found', path: '/console/nope' }],
  ])('%s', (path, route) => expect(parseRoute(path)).toEqual(route));

  it('gives back the URL it reads, user ids escaped', () => {
    for (const route of [{ view: 'customer', userId: 'a/b c?#' }, { view: 'bulk', id: 'bulk_9' }, { view: 'approvals' }, { view: 'operators' }] as const) {
      expect(parseRoute(hrefOf(route))).toEqual(route);
    }
  });
});
