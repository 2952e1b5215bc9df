import { clientErrorRefusal, type ClientError } from './client-error-response';

const clientError = (code: string, reason?: string): ClientError => Object.assign(new Error(reason ?? code), { code, reason });

describe('clientErrorRefusal', () => {
  it.each([
    ['HPE_HEADER_OVERFLOW', 431, 'headers_too_large'],
    ['ERR_HTTP_REQUEST_TIMEOUT', 408, 'request_timeout'],
    ['HPE_CHUNK_EXTENSIONS_OVERFLOW', 413, 'payload_too_large'],
    ['HPE_INVALID_METHOD', 400, 'bad_request'],
    ['HPE_UNEXPECTED_CONTENT_LENGTH', 400, 'bad_request'],
  ])('answers %s with %i %s', (code, status, expected) => {
    const refusal = clientErrorRefusal(clientError(code));
    expect([refusal.status, refusal.code, refusal.extensions.status]).toEqual([status, expected, status]);
  });

  it("names llhttp's reason, a fixed text, in a bad_request", () => {
    expect(clientErrorRefusal(clientError('HPE_INVALID_HEADER_TOKEN', 'Invalid header value char')).message).toBe(
      'bad_request: the HTTP request could not be parsed (Invalid header value char)',
    );
  });
});
