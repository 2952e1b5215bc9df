import { withRequestId } from './response-request-id';

describe('withRequestId', () => {
  it('adds the id to every error of an error answer, after its other extensions', () => {
    const body = JSON.stringify({ errors: [{ message: 'a', extensions: { code: 'bad_request', status: 400 } }, { message: 'b' }] });
    expect(JSON.parse(withRequestId(body, 400, 'req-1'))).toEqual({
      errors: [
        { message: 'a', extensions: { code: 'bad_request', status: 400, requestId: 'req-1' } },
        { message: 'b', extensions: { requestId: 'req-1' } },
      ],
    });
    expect(Object.keys(JSON.parse(withRequestId(body, 400, 'req-1')).errors[0].extensions)).toEqual(['code', 'status', 'requestId']);
  });

  it('adds it to the errors of a partial success (200)', () => {
    const body = JSON.stringify({ data: { a: 1, b: null }, errors: [{ message: 'x', extensions: { code: 'not_found' } }] });
    expect(JSON.parse(withRequestId(body, 200, 'req-2')).errors[0].extensions).toEqual({ code: 'not_found', requestId: 'req-2' });
  });

  it('leaves alone an id already there, an answer without errors, a field aliased "errors", and what is not JSON', () => {
    const stamped = JSON.stringify({ errors: [{ message: 'x', extensions: { requestId: 'first' } }] });
    expect(withRequestId(stamped, 401, 'second')).toBe(stamped);
    const ok = JSON.stringify({ data: { balances: [{ currency: 'CRD', balance: 1 }] } });
    expect(withRequestId(ok, 200, 'req-3')).toBe(ok);
    const aliased = JSON.stringify({ data: { errors: [{ currency: 'CRD' }] } });
    expect(withRequestId(aliased, 200, 'req-4')).toBe(aliased);
    expect(withRequestId('<html>', 404, 'req-5')).toBe('<html>');
    expect(withRequestId('[1]', 400, 'req-6')).toBe('[1]');
  });
});
