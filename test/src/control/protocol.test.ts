import { describe, expect, it } from 'vitest';
import { encodeMessage, parseRequest, parseResponse } from '../../../src/control/protocol.js';

describe('control protocol', () => {
  it('reads a request line', () => {
    expect(parseRequest('{"id":3,"method":"vm.start","params":{"name":"head"}}')).toEqual({ id: 3, method: 'vm.start', params: { name: 'head' } });
    expect(parseRequest('{"id":1,"method":"status"}')).toEqual({ id: 1, method: 'status', params: {} });
  });

  it.each([
    ['nope', 'not JSON'],
    ['[1]', 'a request is a JSON object'],
    ['{"method":"status"}', 'id must be an integer'],
    ['{"id":1.5,"method":"status"}', 'id must be an integer'],
    ['{"id":1,"method":"../etc"}', 'method must be a dotted name'],
    ['{"id":1,"method":"status","params":[1]}', 'params must be an object'],
  ])('refuses %s', (line, message) => {
    expect(() => parseRequest(line)).toThrow(message);
  });

  it('round-trips answers', () => {
    expect(parseResponse(encodeMessage({ id: 2, result: { ok: true } }))).toEqual({ id: 2, result: { ok: true } });
    expect(parseResponse(encodeMessage({ id: 2, error: { code: 'E_USAGE', message: 'no' } }))).toEqual({ id: 2, error: { code: 'E_USAGE', message: 'no' } });
  });
});
