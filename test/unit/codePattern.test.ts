import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { codePattern } from '../../src/core/codePattern';
import { findLatentCodes, formatLatentCode, isLatentCode, parseLatentCode } from '../../src/core/latentCode';
import {
  findLosslessCodes,
  formatLosslessCode,
  isLosslessCode,
  parseLosslessCode,
} from '../../src/core/lossless/format';

const FP = '0123456789abcdef';
const latent = formatLatentCode([0.5, -1, 2], FP);
const lossless = formatLosslessCode(new Uint8Array([1, 2, 3, 4, 5, 6, 7]), FP);

describe('both kinds of code share one text shape', () => {
  const kinds = [
    { name: 'latent', code: latent, is: isLatentCode, find: findLatentCodes, parse: (c: string) => parseLatentCode(c) },
    { name: 'lossless', code: lossless, is: isLosslessCode, find: findLosslessCodes, parse: parseLosslessCode },
  ];

  for (const k of kinds) {
    test(`${k.name}: padded input is a code, and the parser reads what is() accepts`, () => {
      for (const padded of [` ${k.code}`, `${k.code}\n`, `\t ${k.code} \r\n`]) {
        assert.equal(k.is(padded), true, JSON.stringify(padded));
        assert.doesNotThrow(() => k.parse(padded));
        assert.deepEqual(
          k.find(padded).map((m) => m.code),
          [k.code],
        );
      }
      for (const bad of [`x ${k.code}`, `${k.code} y`, `${k.code}!`, `${k.code}:`, '', '   '])
        assert.equal(k.is(bad), false, JSON.stringify(bad));
    });
  }

  test('each kind recognises only its own prefix', () => {
    assert.equal(isLatentCode(lossless), false);
    assert.equal(isLosslessCode(latent), false);
    const text = `a ${latent} then ${lossless}.`;
    assert.deepEqual(
      findLatentCodes(text).map((m) => m.start),
      [text.indexOf(latent)],
    );
    assert.deepEqual(
      findLosslessCodes(text).map((m) => m.start),
      [text.indexOf(lossless)],
    );
  });

  test('a bad prefix is refused when the pattern is built', () => {
    assert.throws(() => codePattern('tv(z'), /bad prefix/);
  });
});
