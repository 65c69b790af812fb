import { test, describe } from 'node:test';
import assert from 'node:assert/strict';

import { decodeWtf8, encodeWtf8 } from '../../src/core/wtf8';
import { Random } from '../../src/core/random';
import {
  BOS,
  DEFAULT_PRETOKENIZER,
  EOS,
  FIRST_BYTE_ID,
  MASK,
  PAD,
  Tokenizer,
  type TokenizerJSON,
} from '../../src/core/tokenizer';
import { fixtureTexts } from '../helpers/fixtures';

/** Chinese, Arabic, emoji, combining marks, CRLF, tabs and code (test/fixtures/multilingual). */
const docs = fixtureTexts('multilingual');

/** Seeded uniform numbers in [0, 1), from the engine's own generator. */
function prng(seed: number): () => number {
  const random = new Random(seed);
  return () => random.next();
}

const ASCII_POOL = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 .,;:!?\'"()[]{}<>=+-*/_#@$%^&|~`\\';
const CJK_POOL = '自编码器是一种神经网络模型变分稀疏解码的在和了。，！？、：；「」';
const EMOJI_POOL = ['😀', '👍🏽', '👨‍👩‍👧‍👦', '🇯🇵', '🇺🇸', '❤️', '🧑‍💻', '𝄞', '🏳️‍🌈', '\u{10FFFF}'];
const CONTROL_POOL = ['\0', '\t', '\n', '\r\n', '\r', '\x1b', '\x7f', '\u00a0', '\u2028', '\ufeff', '\u200d', '\u0301'];
const LONE_POOL = ['\ud800', '\udbff', '\udc00', '\udfff', '\ud83d', '\ude00'];

/** A random string mixing ASCII, CJK, emoji, control chars and (optionally) lone surrogates. */
function randomString(rnd: () => number, maxLen: number, withLone = true): string {
  const parts: string[] = [];
  const len = Math.floor(rnd() * maxLen);
  for (let i = 0; i < len; i++) {
    const r = rnd();
    const pick = <T>(xs: ArrayLike<T>): T => xs[Math.floor(rnd() * xs.length)];
    if (r < 0.45) parts.push(pick(ASCII_POOL));
    else if (r < 0.65) parts.push(pick(CJK_POOL));
    else if (r < 0.77) parts.push(pick(EMOJI_POOL));
    else if (r < 0.87) parts.push(pick(CONTROL_POOL));
    else if (r < 0.93 && withLone) parts.push(pick(LONE_POOL));
    else parts.push(String.fromCharCode(Math.floor(rnd() * 0x10000)));
  }
  return parts.join('');
}

function isWellFormed(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff) {
      const d = s.charCodeAt(i + 1);
      if (!(d >= 0xdc00 && d <= 0xdfff)) return false;
      i++;
    } else if (c >= 0xdc00 && c <= 0xdfff) return false;
  }
  return true;
}

const TRICKY: string[] = [
  '',
  'a',
  ' ',
  'Hello, world!',
  "It's the cat's toy; they'll say we've done what I'd've.",
  '  leading and trailing spaces  ',
  'line1\r\nline2\r\n\r\nline4\n',
  '\t\tdef f(x):\n\t\treturn x ** 2  # comment\n',
  'function f() { return a?.b ?? c; }\n',
  'NUL\0inside\0\0',
  '自编码器（Autoencoders）是一种深度学习模型。',
  '变分自编码器，简称VAE！',
  '😀👍🏽👨‍👩‍👧‍👦🇯🇵🇺🇸🏳️‍🌈🧑‍💻',
  'e\u0301 cafe\u0301 \u0915\u093f',
  '\ud800',
  '\udc00',
  'a\ud800b',
  '\udc00\ud800',
  '\ud83d',
  '\ude00x\ud83d',
  '\ud83d\ude00\ud83d',
  '12345678901234567890 3.14159 1e-9',
  '\u2028\u2029\u00a0\ufeff\u200b',
  '\x1b[31mred\x1b[0m',
  '...!!!???---===',
  'a'.repeat(5000),
  ' '.repeat(1000) + 'x',
  '\n'.repeat(300),
];

// ---------------------------------------------------------------------------

describe('wtf8', () => {
  test('round-trips fixed strings, including lone surrogates and astral characters', () => {
    for (const s of TRICKY) assert.equal(decodeWtf8(encodeWtf8(s)), s, JSON.stringify(s));
  });

  test('round-trips 500 random strings', () => {
    const rnd = prng(7);
    for (let i = 0; i < 500; i++) {
      const s = randomString(rnd, 60);
      assert.equal(decodeWtf8(encodeWtf8(s)), s);
    }
  });

  test('agrees with TextEncoder / TextDecoder on well-formed strings', () => {
    const enc = new TextEncoder();
    const dec = new TextDecoder('utf-8', { ignoreBOM: true });
    const rnd = prng(11);
    const samples = [...TRICKY.filter(isWellFormed), ...docs];
    for (let i = 0; i < 300; i++) samples.push(randomString(rnd, 80, false).replace(/[\ud800-\udfff]/g, '?'));
    for (const s of samples) {
      assert.ok(isWellFormed(s));
      const ours = encodeWtf8(s);
      assert.deepEqual(ours, enc.encode(s));
      assert.equal(dec.decode(ours), s);
      assert.equal(decodeWtf8(Array.from(ours)), s);
    }
  });

  test('encodes a lone surrogate as its generalized 3-byte form', () => {
    // U+D800 = 1101 1000 0000 0000 -> 1110_1101 10_100000 10_000000
    assert.deepEqual(Array.from(encodeWtf8('\ud800')), [0xed, 0xa0, 0x80]);
    // U+DFFF = 1101 1111 1111 1111 -> 1110_1101 10_111111 10_111111
    assert.deepEqual(Array.from(encodeWtf8('\udfff')), [0xed, 0xbf, 0xbf]);
    // A proper pair uses the 4-byte form: U+1F600 -> F0 9F 98 80
    assert.deepEqual(Array.from(encodeWtf8('\ud83d\ude00')), [0xf0, 0x9f, 0x98, 0x80]);
    assert.equal(decodeWtf8([0xed, 0xa0, 0x80]), '\ud800');
  });

  test('invalid bytes decode to U+FFFD per maximal invalid subpart, never throwing', () => {
    const R = '\ufffd';
    const cases: [number[], string][] = [
      [[0xff], R],
      [[0x80], R],
      [[0xc3], R], // truncated 2-byte
      [[0xe2, 0x82], R], // truncated 3-byte: one subpart
      [[0xe2, 0x82, 0x41], R + 'A'],
      [[0xc0, 0xaf], R + R], // overlong: C0 is never a lead byte
      [[0xe0, 0x80, 0x80], R + R + R], // overlong 3-byte: E0 needs A0..BF
      [[0xf0, 0x80, 0x80, 0x80], R + R + R + R],
      [[0xf4, 0x90, 0x80, 0x80], R + R + R + R], // above U+10FFFF
      [[0xf0, 0x9f, 0x98], R], // truncated emoji
      [[0x41, 0xf0, 0x9f, 0x98, 0x42], 'A' + R + 'B'],
      [[0xf5, 0x41], R + 'A'],
      [[0x300 + 0x41], 'A'], // number[] values are taken modulo 256
    ];
    for (const [bytes, want] of cases) assert.equal(decodeWtf8(bytes), want, JSON.stringify(bytes));
  });

  test('matches TextDecoder replacement behaviour on random bytes (no ED lead byte)', () => {
    // TextDecoder implements the same maximal-subpart rule for UTF-8; WTF-8 differs
    // only for ED A0..BF xx (surrogates), so ED is excluded here.
    const dec = new TextDecoder('utf-8', { ignoreBOM: true });
    const rnd = prng(3);
    for (let i = 0; i < 2000; i++) {
      const n = Math.floor(rnd() * 12);
      const bytes = new Uint8Array(n);
      for (let k = 0; k < n; k++) {
        let b = Math.floor(rnd() * 256);
        if (rnd() < 0.5) b = 0x80 | (b & 0x3f); // plenty of continuation bytes
        if (b === 0xed) b = 0xee;
        bytes[k] = b;
      }
      assert.equal(decodeWtf8(bytes), dec.decode(bytes), Array.from(bytes).join(','));
    }
  });

  test('decodes large inputs', () => {
    const s = docs.join('\ud800').repeat(20);
    assert.equal(decodeWtf8(encodeWtf8(s)), s);
  });
});

// ---------------------------------------------------------------------------

/** Straightforward reference BPE trainer, written independently of the real one. */
function referenceTrain(texts: string[], vocabSize: number): [number, number][] {
  const counts = new Map<string, number>();
  for (const t of texts) {
    const pieces = t.match(new RegExp(DEFAULT_PRETOKENIZER, 'gu')) ?? [];
    assert.equal(pieces.join(''), t, 'default pre-tokenizer covers the text');
    for (const p of pieces) counts.set(p, (counts.get(p) ?? 0) + 1);
  }
  const words: { syms: number[]; f: number }[] = [];
  for (const [p, f] of counts) words.push({ syms: Array.from(encodeWtf8(p), (b) => b + FIRST_BYTE_ID), f });
  const merges: [number, number][] = [];
  while (260 + merges.length < vocabSize) {
    const pc = new Map<string, number>();
    for (const w of words) {
      for (let i = 0; i + 1 < w.syms.length; i++) {
        const k = `${w.syms[i]},${w.syms[i + 1]}`;
        pc.set(k, (pc.get(k) ?? 0) + w.f);
      }
    }
    let best: [number, number] | null = null;
    let bestC = 0;
    for (const [k, c] of pc) {
      const [a, b] = k.split(',').map(Number);
      if (c > bestC || (c === bestC && best !== null && (a < best[0] || (a === best[0] && b < best[1])))) {
        best = [a, b];
        bestC = c;
      }
    }
    if (best === null || bestC < 2) break;
    const id = 260 + merges.length;
    merges.push(best);
    for (const w of words) {
      const out: number[] = [];
      for (let i = 0; i < w.syms.length; i++) {
        if (i + 1 < w.syms.length && w.syms[i] === best[0] && w.syms[i + 1] === best[1]) {
          out.push(id);
          i++;
        } else out.push(w.syms[i]);
      }
      w.syms = out;
    }
  }
  return merges;
}

/** Reference encoder: repeatedly merge the lowest-ranked adjacent pair (leftmost first). */
function referenceEncode(merges: [number, number][], text: string): number[] {
  const rank = new Map<string, number>();
  merges.forEach(([a, b], k) => rank.set(`${a},${b}`, k));
  const ids: number[] = [];
  for (const piece of text.match(new RegExp(DEFAULT_PRETOKENIZER, 'gu')) ?? []) {
    let syms = Array.from(encodeWtf8(piece), (b) => b + FIRST_BYTE_ID);
    for (;;) {
      let bestK = Infinity;
      let at = -1;
      for (let i = 0; i + 1 < syms.length; i++) {
        const k = rank.get(`${syms[i]},${syms[i + 1]}`);
        if (k !== undefined && k < bestK) {
          bestK = k;
          at = i;
        }
      }
      if (at < 0) break;
      syms = [...syms.slice(0, at), 260 + bestK, ...syms.slice(at + 2)];
    }
    ids.push(...syms);
  }
  return ids;
}

describe('tokenizer', () => {
  const VOCAB = 700;
  const tok = Tokenizer.train(docs, { vocabSize: VOCAB });

  test('special ids and byte range constants', () => {
    assert.deepEqual([PAD, BOS, EOS, MASK, FIRST_BYTE_ID], [0, 1, 2, 3, 4]);
    assert.equal(tok.tokenText(PAD), '<pad>');
    assert.equal(tok.tokenText(BOS), '<bos>');
    assert.equal(tok.tokenText(EOS), '<eos>');
    assert.equal(tok.tokenText(MASK), '<mask>');
    for (const id of [PAD, BOS, EOS, MASK]) assert.equal(tok.tokenBytes(id).length, 0);
    for (let b = 0; b < 256; b++) assert.deepEqual(Array.from(tok.tokenBytes(FIRST_BYTE_ID + b)), [b]);
    assert.equal(tok.tokenText(FIRST_BYTE_ID + 0x41), 'A');
    assert.equal(tok.tokenText(FIRST_BYTE_ID + 0xe4), '<0xE4>');
    assert.throws(() => tok.tokenBytes(tok.vocabSize), RangeError);
    assert.throws(() => tok.tokenText(-1), RangeError);
  });

  test('vocabSize is respected', () => {
    assert.equal(tok.vocabSize, VOCAB);
    assert.equal(tok.toJSON().merges.length, VOCAB - 260);
    const small = Tokenizer.train(docs, { vocabSize: 300 });
    assert.equal(small.vocabSize, 300);
    for (const s of docs) for (const id of small.encode(s)) assert.ok(id >= FIRST_BYTE_ID && id < 300);
    assert.equal(Tokenizer.train(docs, { vocabSize: 260 }).vocabSize, 260);
    assert.throws(() => Tokenizer.train(docs, { vocabSize: 259 }), /vocabSize/);
    assert.throws(() => Tokenizer.train(docs, { vocabSize: 300.5 }), /vocabSize/);
  });

  test('stops early when no pair occurs twice, with the lowest-id tie-break', () => {
    assert.equal(Tokenizer.train(['xyz'], { vocabSize: 500 }).vocabSize, 260);
    // Chunks: "hello" and " hello". Pairs he, el, ll, lo occur twice; ties go to the
    // lowest left id: e(105) < h(108) < l(112). Merges: (e,l) -> 260, (h,260) -> 261,
    // (l,o) -> 262, (261,262) -> 263; then (" ", hello) occurs once: stop.
    const t = Tokenizer.train(['hello hello'], { vocabSize: 500 });
    const id = (c: string): number => c.charCodeAt(0) + FIRST_BYTE_ID;
    assert.deepEqual(t.toJSON().merges, [
      [id('e'), id('l')],
      [id('h'), 260],
      [id('l'), id('o')],
      [261, 262],
    ]);
    assert.equal(t.vocabSize, 264);
    assert.equal(t.tokenText(263), 'hello');
    assert.deepEqual(t.encode('hello hello'), [263, id(' '), 263]);
  });

  test('learns the same merges as a naive reference implementation', () => {
    const corpus = [
      ...docs.map((s) => s.slice(0, 1500)),
      "The encoder maps text to a latent code; the decoder maps it back. It's simple, isn't it?\n",
      'def encode(self, x):\n    return self.net(x)  # 123 4567\n\n\tprint("done")\r\n',
    ];
    const ours = Tokenizer.train(corpus, { vocabSize: 420 }).toJSON().merges;
    assert.deepEqual(ours, referenceTrain(corpus, 420));
  });

  test('encode applies merges exactly like a naive reference encoder', () => {
    const merges = tok.toJSON().merges;
    const rnd = prng(5);
    const samples = [...TRICKY.filter((s) => s.length < 2000), docs[0].slice(0, 3000)];
    for (let i = 0; i < 100; i++) samples.push(randomString(rnd, 40));
    for (const s of samples) assert.deepEqual(tok.encode(s), referenceEncode(merges, s), JSON.stringify(s));
  });

  test('round-trips fixed tricky strings', () => {
    for (const s of TRICKY) assert.equal(tok.decode(tok.encode(s)), s, JSON.stringify(s));
    for (const s of docs) assert.equal(tok.decode(tok.encode(s)), s);
  });

  test('round-trips 500 random strings (ASCII, CJK, emoji, controls, lone surrogates)', () => {
    const rnd = prng(42);
    for (let i = 0; i < 500; i++) {
      const s = randomString(rnd, 120);
      const ids = tok.encode(s);
      for (const id of ids) assert.ok(Number.isInteger(id) && id >= FIRST_BYTE_ID && id < tok.vocabSize);
      assert.equal(tok.decode(ids), s, JSON.stringify(s));
    }
  });

  test('token bytes concatenate to the WTF-8 bytes of the text', () => {
    for (const s of ['a\ud800b 自编码器 😀', docs[1].slice(0, 500)]) {
      const bytes = tok.encode(s).flatMap((id) => Array.from(tok.tokenBytes(id)));
      assert.deepEqual(bytes, Array.from(encodeWtf8(s)));
    }
  });

  test('training on the multilingual fixtures compresses and uses merged tokens', () => {
    for (const s of docs) {
      const ids = tok.encode(s);
      const bytes = encodeWtf8(s).length;
      assert.ok(ids.length < bytes * 0.75, `${ids.length} tokens for ${bytes} bytes`);
      assert.ok(ids.some((id) => id >= 260));
    }
    // A frequent word of the corpus becomes a single multi-byte token.
    const ids = tok.encode('编码器');
    assert.ok(ids.length < encodeWtf8('编码器').length);
  });

  test('decode skips specials and turns invalid bytes into U+FFFD', () => {
    const hi = tok.encode('hi 你好');
    assert.equal(tok.decode([BOS, ...hi, MASK, EOS, PAD, PAD]), 'hi 你好');
    const ni = encodeWtf8('你').map((b) => b + FIRST_BYTE_ID);
    assert.equal(tok.decode([ni[0], ni[1]]), '\ufffd'); // truncated 3-byte sequence
    assert.equal(tok.decode([FIRST_BYTE_ID + 0xff, FIRST_BYTE_ID + 0x41]), '\ufffdA');
    assert.equal(tok.decode([tok.vocabSize, FIRST_BYTE_ID + 0x41]), '\ufffdA');
    assert.equal(tok.decode(new Int32Array([BOS, ...hi])), 'hi 你好');
  });

  test('training is deterministic', () => {
    const a = Tokenizer.train(docs, { vocabSize: 600 });
    const b = Tokenizer.train([...docs], { vocabSize: 600 });
    assert.deepEqual(a.toJSON(), b.toJSON());
    assert.equal(JSON.stringify(a.toJSON()), JSON.stringify(b.toJSON()));
  });

  test('onProgress reports each merge', () => {
    const seen: [number, number][] = [];
    Tokenizer.train(docs, { vocabSize: 280, onProgress: (d, t) => seen.push([d, t]) });
    assert.deepEqual(
      seen,
      Array.from({ length: 20 }, (_, i) => [i + 1, 20]),
    );
  });

  test('toJSON/fromJSON round trip gives identical encodings', () => {
    const json = tok.toJSON();
    assert.equal(json.kind, 'byte-bpe');
    assert.equal(json.version, 1);
    assert.equal(json.pretokenizer, DEFAULT_PRETOKENIZER);
    const back = Tokenizer.fromJSON(JSON.parse(JSON.stringify(json)));
    assert.equal(back.vocabSize, tok.vocabSize);
    assert.deepEqual(back.toJSON(), json);
    const rnd = prng(9);
    const samples = [...TRICKY, ...docs];
    for (let i = 0; i < 100; i++) samples.push(randomString(rnd, 100));
    for (const s of samples) assert.deepEqual(back.encode(s), tok.encode(s));
    for (let id = 0; id < tok.vocabSize; id++) assert.deepEqual(back.tokenBytes(id), tok.tokenBytes(id));
    // JSON text is accepted too.
    assert.deepEqual(Tokenizer.fromJSON(JSON.stringify(json)).toJSON(), json);
  });

  test('only the pre-tokenizer the engine writes is accepted; a foreign pattern is never run', () => {
    const json: TokenizerJSON = {
      kind: 'byte-bpe',
      version: 1,
      merges: [[FIRST_BYTE_ID + 0x61, FIRST_BYTE_ID + 0x2e]],
      pretokenizer: DEFAULT_PRETOKENIZER,
    };
    assert.equal(Tokenizer.fromJSON(json).vocabSize, 261);
    // A catastrophic-backtracking pattern: compiled and run, 30 characters would take minutes.
    for (const pretokenizer of ['(a+)+$', '(x|x)*y', '\\S+|\\s+', '', DEFAULT_PRETOKENIZER + '|a']) {
      assert.throws(
        () => Tokenizer.fromJSON({ ...json, pretokenizer }),
        /^Error: tokenizer\.json: pretokenizer .* is not one TextVAE writes; it is refused unrun/,
      );
    }
  });

  test('fromJSON rejects every bad field with a clear message', () => {
    const good: TokenizerJSON = {
      kind: 'byte-bpe',
      version: 1,
      merges: [
        [FIRST_BYTE_ID + 0x61, FIRST_BYTE_ID + 0x62], // 260
        [260, FIRST_BYTE_ID + 0x63], // 261
      ],
      pretokenizer: DEFAULT_PRETOKENIZER,
    };
    assert.equal(Tokenizer.fromJSON(good).vocabSize, 262);
    const bad = (patch: Record<string, unknown>, re: RegExp): void => {
      assert.throws(
        () => Tokenizer.fromJSON({ ...good, ...patch }),
        (e: unknown) =>
          e instanceof Error &&
          re.test(e.message) &&
          e.message.startsWith('tokenizer.json: ') &&
          !e.message.includes('\n'),
        JSON.stringify(patch),
      );
    };
    bad({ kind: 'wordpiece' }, /kind/);
    bad({ kind: undefined }, /kind/);
    bad({ version: 2 }, /version 2/);
    bad({ version: '1' }, /version/);
    // Byte ids are 4..259; merge k creates id 260 + k.
    bad({ merges: 'nope' }, /merges must be an array/);
    bad({ merges: [[100, 101], [100]] }, /merge 1 must be a pair/);
    bad(
      {
        merges: [
          [100, 101],
          [100, 101, 102],
        ],
      },
      /merge 1 must be a pair/,
    );
    bad({ merges: [[100, 101], 'ab'] }, /merge 1 must be a pair/);
    bad({ merges: [[100, 101.5]] }, /merge 0 has a non-integer token id 101\.5/);
    bad({ merges: [[100, '101']] }, /merge 0 has a non-integer token id "101"/);
    bad({ merges: [[100, null]] }, /merge 0 has a non-integer token id/);
    bad(
      {
        merges: [
          [100, 101],
          [100, 9999],
        ],
      },
      /merge 1 refers to unknown token 9999/,
    );
    bad({ merges: [[260, 101]] }, /merge 0 refers to unknown token 260/); // a merge cannot use itself
    bad(
      {
        merges: [
          [100, 101],
          [100, 261],
        ],
      },
      /merge 1 refers to unknown token 261/,
    );
    bad({ merges: [[100, -1]] }, /merge 0 refers to unknown token -1/);
    bad({ merges: [[BOS, 101]] }, /merge 0 refers to special token 1/);
    bad(
      {
        merges: [
          [100, 101],
          [260, 102],
          [100, 101],
        ],
      },
      /merge 2 duplicates merge 0/,
    );
    assert.equal(
      Tokenizer.fromJSON({
        ...good,
        merges: [
          [100, 101],
          [260, 102],
          [260, 261],
        ],
      }).vocabSize,
      263,
    );
    bad({ pretokenizer: '(unclosed' }, /pretokenizer "\(unclosed" is not one TextVAE writes/);
    bad({ pretokenizer: 42 }, /pretokenizer must be a string/);
    for (const v of [null, 42, 'not json', [], undefined]) {
      assert.throws(() => Tokenizer.fromJSON(v), /^Error: tokenizer\.json: /);
    }
  });

  test('round-trips long pathological inputs and 1 MB of mixed text', () => {
    // Speed belongs in benchmarks, never in tests: this checks behaviour only.
    const one = 'a'.repeat(200_000);
    assert.equal(tok.decode(tok.encode(one)), one);
    const cjk = '自编码器是一种神经网络'.repeat(20_000); // one 220k-char letter run
    assert.equal(tok.decode(tok.encode(cjk)), cjk);
    // About 1 MB of mixed text, cold cache: same ids as a warm tokenizer, and a round trip.
    const big = (docs.join('\n\n') + TRICKY.join(' ')).repeat(20).slice(0, 1_000_000);
    const fresh = Tokenizer.fromJSON(tok.toJSON());
    const ids = fresh.encode(big);
    assert.deepEqual(ids, tok.encode(big));
    assert.equal(fresh.decode(ids), big);
  });
});
