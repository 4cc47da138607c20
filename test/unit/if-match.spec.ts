import { describe, expect, it } from '@jest/globals';
import { PreconditionFailedException } from '@nestjs/common';
import { assertIfMatch, etagFor, versionsFromIfMatch } from '../../src/common/if-match.js';

describe('etagFor', () => {
  it('is a strong tag holding the version', () => {
    expect(etagFor(3)).toBe('"3"');
  });

  it('is accepted back by versionsFromIfMatch', () => {
    expect(versionsFromIfMatch(etagFor(17))).toEqual([17]);
  });
});

describe('versionsFromIfMatch', () => {
  it.each([
    ['absent', undefined, undefined],
    ['*', '*', undefined],
    ['* with spaces', ' * ', undefined],
    ['one strong tag', '"3"', [3]],
    ['a list of strong tags', '"3", "4"', [3, 4]],
    ['a list without spaces', '"3","4"', [3, 4]],
    ['a weak tag (never matches)', 'W/"3"', []],
    ['a weak and a strong tag', 'W/"3", "4"', [4]],
    ['an unquoted number', '3', []],
    ['garbage', 'not an etag', []],
    ['a non-numeric tag', '"abc"', []],
    ['a negative number', '"-1"', []],
    ['a leading zero (strong comparison is octet by octet)', '"03"', []],
    ['an empty header', '', []],
  ])('%s -> %j', (_what, header, expected) => {
    expect(versionsFromIfMatch(header)).toEqual(expected);
  });

  it('reads "0" as version 0', () => {
    expect(versionsFromIfMatch('"0"')).toEqual([0]);
  });
});

describe('assertIfMatch', () => {
  it('passes without a precondition', () => {
    expect(() => assertIfMatch(undefined, 7)).not.toThrow();
  });

  it('passes when one of the tags names the current version', () => {
    expect(() => assertIfMatch([7], 7)).not.toThrow();
    expect(() => assertIfMatch([3, 7], 7)).not.toThrow();
  });

  it('throws 412 when no tag names the current version', () => {
    expect(() => assertIfMatch([6], 7)).toThrow(PreconditionFailedException);
    expect(() => assertIfMatch([6, 8], 7)).toThrow(PreconditionFailedException);
  });

  it('throws 412 when no tag can match (weak or garbage header)', () => {
    expect(() => assertIfMatch(versionsFromIfMatch('W/"7"'), 7)).toThrow(
      PreconditionFailedException,
    );
    expect(() => assertIfMatch(versionsFromIfMatch('garbage'), 7)).toThrow(
      PreconditionFailedException,
    );
  });

  it('passes for * whatever the version', () => {
    expect(() => assertIfMatch(versionsFromIfMatch('*'), 123)).not.toThrow();
  });
});
