import { matchesStrongly, matchesWeakly, parseEtagCondition, quoted } from './etags';

describe('parseEtagCondition', () => {
  it('returns undefined when there is no header, or only an empty or blank one', () => {
    expect(parseEtagCondition(undefined)).toBeUndefined();
    expect(parseEtagCondition('')).toBeUndefined();
    expect(parseEtagCondition('   ')).toBeUndefined();
    expect(parseEtagCondition([])).toBeUndefined();
    expect(parseEtagCondition([' '])).toBeUndefined();
  });

  it('returns undefined for a header of commas only, which names no tag', () => {
    expect(parseEtagCondition(',')).toBeUndefined();
    expect(parseEtagCondition(' , ,')).toBeUndefined();
    expect(parseEtagCondition(['', ' '])).toBeUndefined();
  });

  it('reads a quoted strong tag without its quotes', () => {
    expect(parseEtagCondition('"abc"')).toEqual({
      any: false,
      tags: [{ value: 'abc', weak: false }],
    });
  });

  it('reads an unquoted tag as the .NET and Java SDKs may send it', () => {
    expect(parseEtagCondition('abc')).toEqual({
      any: false,
      tags: [{ value: 'abc', weak: false }],
    });
    expect(parseEtagCondition('  abc  ')).toEqual({
      any: false,
      tags: [{ value: 'abc', weak: false }],
    });
  });

  it('reads W/ (either case) as a weak tag, quoted or not', () => {
    expect(parseEtagCondition('W/"abc"')).toEqual({
      any: false,
      tags: [{ value: 'abc', weak: true }],
    });
    expect(parseEtagCondition('w/"abc"')).toEqual({
      any: false,
      tags: [{ value: 'abc', weak: true }],
    });
    expect(parseEtagCondition('W/abc')).toEqual({
      any: false,
      tags: [{ value: 'abc', weak: true }],
    });
  });

  it('reads a comma-separated list, skipping empty members', () => {
    expect(parseEtagCondition('"a", W/"b" ,c,, ')).toEqual({
      any: false,
      tags: [
        { value: 'a', weak: false },
        { value: 'b', weak: true },
        { value: 'c', weak: false },
      ],
    });
  });

  it('joins repeated headers into one list', () => {
    expect(parseEtagCondition(['"a"', 'W/"b"'])).toEqual({
      any: false,
      tags: [
        { value: 'a', weak: false },
        { value: 'b', weak: true },
      ],
    });
  });

  it('reads * as "any", also with white space around it', () => {
    expect(parseEtagCondition('*')).toEqual({ any: true, tags: [] });
    expect(parseEtagCondition(' * ')).toEqual({ any: true, tags: [] });
  });

  it('keeps a quote that is not a matching pair as part of the value', () => {
    expect(parseEtagCondition('"abc')).toEqual({
      any: false,
      tags: [{ value: '"abc', weak: false }],
    });
  });

  it('reads a base64url etag (as the service generates them) unchanged', () => {
    const etag = 'Zm9vYmFyLV9iYXotcXV4MTIz';
    expect(parseEtagCondition(quoted(etag))?.tags).toEqual([{ value: etag, weak: false }]);
  });
});

describe('matchesStrongly (If-Match)', () => {
  const match = (header: string, etag: string) => {
    const condition = parseEtagCondition(header);
    if (!condition) throw new Error(`no condition in ${JSON.stringify(header)}`);
    return matchesStrongly(condition, etag);
  };

  it('matches a quoted or unquoted strong tag with the same value', () => {
    expect(match('"abc"', 'abc')).toBe(true);
    expect(match('abc', 'abc')).toBe(true);
  });

  it('does not match another value, nor a value that differs only in case', () => {
    expect(match('"abd"', 'abc')).toBe(false);
    expect(match('"ABC"', 'abc')).toBe(false);
  });

  it('never matches a weak tag, even with the same value', () => {
    expect(match('W/"abc"', 'abc')).toBe(false);
  });

  it('matches when any strong tag of a list matches', () => {
    expect(match('"x", W/"abc", "abc"', 'abc')).toBe(true);
    expect(match('"x", W/"abc"', 'abc')).toBe(false);
  });

  it('matches anything with *', () => {
    expect(match('*', 'abc')).toBe(true);
  });

  it('does not match with an empty list of tags', () => {
    expect(matchesStrongly({ any: false, tags: [] }, 'abc')).toBe(false);
  });
});

describe('matchesWeakly (If-None-Match)', () => {
  const match = (header: string, etag: string) => {
    const condition = parseEtagCondition(header);
    if (!condition) throw new Error(`no condition in ${JSON.stringify(header)}`);
    return matchesWeakly(condition, etag);
  };

  it('matches strong and weak tags with the same value', () => {
    expect(match('"abc"', 'abc')).toBe(true);
    expect(match('abc', 'abc')).toBe(true);
    expect(match('W/"abc"', 'abc')).toBe(true);
  });

  it('does not match another value', () => {
    expect(match('"abd"', 'abc')).toBe(false);
    expect(match('W/"abd"', 'abc')).toBe(false);
  });

  it('matches when any tag of a list matches', () => {
    expect(match('"x", W/"abc"', 'abc')).toBe(true);
    expect(match('"x", "y"', 'abc')).toBe(false);
  });

  it('matches anything with *', () => {
    expect(match('*', 'abc')).toBe(true);
  });
});

describe('quoted', () => {
  it('wraps the etag in double quotes, as the ETag header carries it', () => {
    expect(quoted('abc')).toBe('"abc"');
  });
});
