/** The contract's error body (CONTRACT section 4) with the given code, for `toEqual`. */
export function errorBody(code: number) {
  return {
    code,
    description: expect.any(String),
    data: expect.any(Array),
    source: 'CustomerService',
  };
}
