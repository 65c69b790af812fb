import { test, describe } from 'node:test';
import assert from 'node:assert/strict';

import { chunkForTraining, chunkText } from '../../src/core/chunker';
import { Tokenizer } from '../../src/core/tokenizer';
import { Random } from '../../src/core/random';
import { fixtureTexts } from '../helpers/fixtures';

/** Chinese, Arabic, emoji, combining marks, CRLF, tabs and code (test/fixtures/multilingual). */
const docs = fixtureTexts('multilingual');
const tok = Tokenizer.train(docs, { vocabSize: 600 });
const bpeCount = (s: string): number => tok.encode(s).length;

/** Whitespace-separated words: exactly additive over whitespace-ended pieces. */
const wordCount = (s: string): number => s.match(/\S+/g)?.length ?? 0;
/** Code points. */
const cpCount = (s: string): number => Array.from(s).length;

/** Seeded uniform numbers in [0, 1), from the engine's own generator. */
function prng(seed: number): () => number {
  const random = new Random(seed);
  return () => random.next();
}

const WORDS = [
  'the',
  'latent',
  'code',
  'encoder',
  'decoder',
  'x',
  'KL',
  'loss',
  '自编码器',
  '变分',
  '😀',
  '👨‍👩‍👧',
  'a\ud800b',
  'supercalifragilisticexpialidocious',
];
const SEPS = [' ', ' ', ' ', '  ', '\t', '. ', '? ', '! ', '。', '，', '\n', '\r\n', '\n\n', '\n \n\n', ''];

function randomText(rnd: () => number, maxPieces: number): string {
  const parts: string[] = [];
  const n = Math.floor(rnd() * maxPieces);
  for (let i = 0; i < n; i++) {
    if (rnd() < 0.02) parts.push('z'.repeat(Math.floor(rnd() * 300)));
    else parts.push(WORDS[Math.floor(rnd() * WORDS.length)]);
    parts.push(SEPS[Math.floor(rnd() * SEPS.length)]);
  }
  return parts.join('');
}

function isHigh(c: number): boolean {
  return c >= 0xd800 && c <= 0xdbff;
}
function isLow(c: number): boolean {
  return c >= 0xdc00 && c <= 0xdfff;
}

/** The invariants every result must satisfy. */
function checkChunks(text: string, chunks: string[], count: (s: string) => number, max: number): void {
  assert.equal(chunks.join(''), text);
  for (const c of chunks) {
    assert.ok(c.length > 0, 'no empty chunk');
    assert.ok(count(c) <= max, `chunk over limit (${count(c)} > ${max}): ${JSON.stringify(c.slice(0, 80))}`);
  }
  for (let i = 0; i + 1 < chunks.length; i++) {
    const a = chunks[i];
    const b = chunks[i + 1];
    assert.ok(!(isHigh(a.charCodeAt(a.length - 1)) && isLow(b.charCodeAt(0))), 'surrogate pair split');
  }
}

describe('chunker', () => {
  test('empty text gives no chunks', () => {
    assert.deepEqual(chunkText('', bpeCount, 10), []);
    assert.deepEqual(chunkForTraining('', bpeCount, 10), []);
  });

  test('text that fits is one chunk', () => {
    const t = 'One paragraph.\n\nAnother one.\n';
    assert.deepEqual(chunkText(t, bpeCount, 1000), [t]);
  });

  test('random texts: chunks join to the input and respect the limit', () => {
    const rnd = prng(1234);
    for (let i = 0; i < 150; i++) {
      const text = randomText(rnd, 200);
      for (const max of [4, 16, 64]) {
        checkChunks(text, chunkText(text, bpeCount, max), bpeCount, max);
        checkChunks(text, chunkText(text, cpCount, max), cpCount, max);
      }
    }
  });

  test('multilingual fixtures: join equals input, within the limit', () => {
    for (const s of docs) {
      for (const max of [8, 50, 200]) checkChunks(s, chunkText(s, bpeCount, max), bpeCount, max);
    }
  });

  test('several short paragraphs are cut only at blank lines, greedily', () => {
    // Six paragraphs of two 5-word lines; 25 words per chunk -> 2 whole paragraphs
    // per chunk (a line-greedy packer would add the first line of the third).
    const line = (p: number, l: number): string => Array.from({ length: 5 }, (_, w) => `w${p}x${l}x${w}`).join(' ');
    const paras = Array.from({ length: 6 }, (_, p) => `${line(p, 0)}\n${line(p, 1)}.\n\n`);
    const text = paras.join('');
    const chunks = chunkText(text, wordCount, 25);
    assert.deepEqual(chunks, [paras[0] + paras[1], paras[2] + paras[3], paras[4] + paras[5]]);
    // Same with the BPE count: every cut falls at a paragraph boundary.
    const limit = bpeCount(paras[0] + paras[1]) + 2;
    const bpeChunks = chunkText(text, bpeCount, limit);
    checkChunks(text, bpeChunks, bpeCount, limit);
    assert.ok(bpeChunks.length > 1);
    for (const c of bpeChunks) assert.ok(c.endsWith('.\n\n'), JSON.stringify(c));
  });

  test('blank lines with spaces end a paragraph; indentation goes with the next one', () => {
    const a = 'alpha beta gamma\n \n\n';
    const b = '    delta epsilon zeta\n';
    assert.deepEqual(chunkText(a + b, wordCount, 4), [a, b]);
  });

  test('a paragraph too big is cut at line ends, then sentences, then whitespace', () => {
    const lines = ['one two three\n', 'four five six\n', 'seven eight nine\n'];
    const para = lines.join('') + '\n';
    // 9 words > 7: cut the paragraph at line ends, packing two lines (6 words).
    assert.deepEqual(chunkText(para + 'ten\n', wordCount, 7), [lines[0] + lines[1], lines[2] + '\n' + 'ten\n']);

    const sentences = ['A b c. ', 'D e f? ', 'G h i! ', 'J k.'];
    const line = sentences.join('') + '\n';
    assert.deepEqual(chunkText(line, wordCount, 6), [sentences[0] + sentences[1], sentences[2] + sentences[3] + '\n']);

    const words = 'a b c d e f g h i j';
    assert.deepEqual(chunkText(words, wordCount, 4), ['a b c d ', 'e f g h ', 'i j']);
  });

  test('the tail of a cut paragraph is packed with what follows', () => {
    const big = 'a b c d e f g\n\n'; // 7 words
    const small = 'h i\n\n';
    // max 5: the big paragraph is split at whitespace: "a b c d e " | "f g\n\n" + "h i\n\n"
    assert.deepEqual(chunkText(big + small, wordCount, 5), ['a b c d e ', 'f g\n\n' + small]);
  });

  test('a single huge word is cut between code points', () => {
    const word = 'x'.repeat(1000);
    const chunks = chunkText(word, cpCount, 100);
    assert.deepEqual(
      chunks,
      Array.from({ length: 10 }, () => 'x'.repeat(100)),
    );
    const emoji = '😀'.repeat(333);
    const ec = chunkText(emoji, cpCount, 50);
    checkChunks(emoji, ec, cpCount, 50);
    assert.equal(ec.length, Math.ceil(333 / 50));
    const long = 'q'.repeat(5000) + ' end';
    checkChunks(long, chunkText(long, bpeCount, 32), bpeCount, 32);
    assert.ok(chunkText(long, bpeCount, 32).length > 1);
  });

  test('CJK text without spaces is cut at sentence marks', () => {
    const sentences = [
      '自编码器是一种神经网络。',
      '它学习压缩表示！',
      '变分自编码器如何工作？',
      '稀疏自编码器也很有用。',
    ];
    const text = sentences.join('').repeat(5);
    const longest = Math.max(...sentences.map(cpCount));
    const max = longest + 3; // room for one sentence, never two
    const chunks = chunkText(text, cpCount, max);
    checkChunks(text, chunks, cpCount, max);
    assert.equal(chunks.length, 20);
    for (const c of chunks) assert.match(c, /^[^。！？]+[。！？]$/u);
    const bpeChunks = chunkText(text, bpeCount, 40);
    checkChunks(text, bpeChunks, bpeCount, 40);
    for (const c of bpeChunks) assert.match(c, /[。！？]$/u);
  });

  test('chunkForTraining drops whitespace-only chunks', () => {
    const text = '\n\n' + 'word '.repeat(30) + '\n\n';
    const all = chunkText(text, wordCount, 10);
    assert.equal(all[0], '\n\n'); // flushed before the oversized paragraph
    const training = chunkForTraining(text, wordCount, 10);
    assert.deepEqual(
      training,
      all.filter((c) => c.trim() !== ''),
    );
    assert.equal(training.length, 3);
    for (const c of training) assert.match(c, /\S/);
  });

  test('stays within the limit when counts are far from additive', () => {
    // Super-additive count: concatenations cost more than their parts.
    const square = (s: string): number => Math.ceil((s.length * s.length) / 200);
    const rnd = prng(99);
    for (let i = 0; i < 40; i++) {
      const text = randomText(rnd, 150);
      checkChunks(text, chunkText(text, square, 30), square, 30);
    }
  });

  test('a code point that alone exceeds the limit becomes its own chunk', () => {
    const byBytes = (s: string): number => Buffer.byteLength(s);
    const text = 'ab自cd';
    const chunks = chunkText(text, byBytes, 2);
    assert.equal(chunks.join(''), text);
    assert.ok(chunks.includes('自'));
    assert.throws(() => chunkText('x', byBytes, 0), RangeError);
  });

  test('is linear on a 100 kB document (counts each character only a few times)', () => {
    const doc = docs.join('\n\n').repeat(3).slice(0, 100_000) + '\n' + 'z'.repeat(3000);
    let counted = 0;
    const counting = (s: string): number => {
      counted += s.length;
      return bpeCount(s);
    };
    const chunks = chunkText(doc, counting, 128);
    checkChunks(doc, chunks, bpeCount, 128);
    assert.ok(counted < doc.length * 8, `counted ${counted} chars for a ${doc.length}-char document`);
  });

  test('a 200 kB line without whitespace costs O(n log n) counting, not O(n²)', () => {
    for (const line of ['q'.repeat(200_000), '自'.repeat(100_000) + '.'.repeat(100_000)]) {
      let counted = 0;
      const counting = (s: string): number => {
        counted += s.length;
        return bpeCount(s);
      };
      const chunks = chunkText(line, counting, 64);
      checkChunks(line, chunks, bpeCount, 64);
      // Each character is counted about 2·log2(chunk length) times; quadratic work would be ~1000×n.
      assert.ok(counted < line.length * 40, `counted ${counted} chars for a ${line.length}-char line`);
    }
  });
});
