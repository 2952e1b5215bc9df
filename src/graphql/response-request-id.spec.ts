import { withRequestId } from './response-request-id';

describe('withRequestId', () => {
  it('adds the id to every error of an error answer, after its other extensions', () => {
    const body = JSON.stringify({ errors: [{ message: 'a', extensions: { code: 'bad_request', status: 400 } }, { message: 'b' }] });
    expect(JSON.parse(withRequestId(body, 'req-1'))).toEqual({
      errors: [
        { message: 'a', extensions: { code: 'bad_request', status: 400, requestId: 'req-1' } },
        { message: 'b', extensions: { requestId: 'req-1' } },
      ],
    });
    expect(Object.keys(JSON.parse(withRequestId(body, 'req-1')).errors[0].extensions)).toEqual(['code', 'status', 'requestId']);
  });

  it('leaves alone an id already there and what is not an errors body', () => {
    const stamped = JSON.stringify({ errors: [{ message: 'x', extensions: { requestId: 'first' } }] });
    expect(JSON.parse(withRequestId(stamped, 'second')).errors[0].extensions.requestId).toBe('first');
    expect(withRequestId('<html>', 'req-5')).toBe('<html>');
    expect(withRequestId('[1]', 'req-6')).toBe('[1]');
  });
});
