/**
 * Byte-level BPE tokenizer learned from text.
 *
 * Text is first cut into chunks by a pre-tokenizer regex (words with an optional
 * leading space, short digit groups, punctuation runs, whitespace runs); each
 * chunk's WTF-8 bytes are the base symbols and merges never cross chunks.
 * Because the bytes are WTF-8, any JavaScript string (lone surrogates included)
 * round-trips: decode(encode(s)) === s.
 *
 * Nothing here depends on tfjs or vscode.
 */

import { decodeWtf8, encodeWtf8, wtf8SequenceLength } from './wtf8';

export const PAD = 0,
  BOS = 1,
  EOS = 2,
  MASK = 3; // special ids; MASK is used for token dropout
export const FIRST_BYTE_ID = 4; // ids 4..259 are the 256 bytes; merges follow

/** Id of the first merged token. */
const FIRST_MERGE_ID = FIRST_BYTE_ID + 256;
const SPECIAL_NAMES = ['<pad>', '<bos>', '<eos>', '<mask>'];
/** Upper bound on merges accepted by fromJSON/train (keeps pair keys exact doubles). */
const MAX_MERGES = 1 << 20;
const CACHE_LIMIT = 50_000;
/** Chunks longer than this (code units) are not cached. */
const CACHE_MAX_CHUNK = 256;

/**
 * Default pre-tokenizer. Alternatives, tried in order at each position:
 *  - English contractions ('s 't 're 've 'm 'll 'd) not followed by a letter;
 *  - a letter run (combining marks kept with it) with an optional leading space;
 *  - one to three digits with an optional leading space;
 *  - a run of other symbols (punctuation, emoji, controls) with an optional leading space;
 *  - whitespace ending in line breaks;
 *  - horizontal whitespace, leaving its last character to prefix the next word;
 *  - any remaining whitespace.
 * The source is saved in the JSON, so bundles keep their own pre-tokenizer.
 */
export const DEFAULT_PRETOKENIZER =
  "'(?:[sdmt]|ll|ve|re)(?!\\p{L})" +
  '| ?\\p{L}[\\p{L}\\p{M}]*' +
  '| ?\\p{N}{1,3}' +
  '| ?[^\\s\\p{L}\\p{N}]+' +
  '|\\s*[\\r\\n]+' +
  '|[^\\S\\r\\n]+(?!\\S)' +
  '|\\s+';

/**
 * The only pre-tokenizers a tokenizer.json may name. A bundle is untrusted input and a regular
 * expression from it could take exponential time on a short line, so no other pattern is ever
 * compiled; a new pattern joins this list when the engine starts writing it.
 */
export const KNOWN_PRETOKENIZERS: readonly string[] = [DEFAULT_PRETOKENIZER];

export interface TokenizerJSON {
  kind: 'byte-bpe';
  version: 1;
  merges: [number, number][];
  pretokenizer: string;
}

export interface TrainOptions {
  vocabSize: number;
  onProgress?: (done: number, total: number) => void;
}

function compilePretokenizer(source: string): RegExp {
  return new RegExp(source, 'gu');
}

/**
 * Calls `visit` for consecutive pieces of `text` whose concatenation is `text`:
 * the regex matches, plus any text the regex skipped. Empty matches are ignored.
 */
function splitChunks(re: RegExp, text: string, visit: (chunk: string) => void): void {
  const n = text.length;
  let pos = 0; // end of what has been emitted
  re.lastIndex = 0;
  while (pos < n) {
    const m = re.exec(text);
    if (m === null) break;
    const start = m.index;
    const s = m[0];
    if (s.length === 0) {
      // Step over one code point so that the search makes progress.
      const c = text.charCodeAt(start);
      const d = text.charCodeAt(start + 1);
      re.lastIndex = start + (c >= 0xd800 && c <= 0xdbff && d >= 0xdc00 && d <= 0xdfff ? 2 : 1);
      continue;
    }
    if (start > pos) visit(text.slice(pos, start));
    visit(s);
    pos = start + s.length;
  }
  if (pos < n) visit(text.slice(pos));
  re.lastIndex = 0;
}

// ---------------------------------------------------------------------------
// Binary heaps on parallel arrays (no per-entry objects).

/** Max-heap of pairs for training: higher count first, then lower (a, b). */
class PairHeap {
  private counts: number[] = [];
  private pids: number[] = [];
  constructor(
    private readonly pairA: number[],
    private readonly pairB: number[],
  ) {}

  get size(): number {
    return this.pids.length;
  }
  topCount(): number {
    return this.counts[0];
  }
  topPid(): number {
    return this.pids[0];
  }

  /** True when entry (c1, p1) must come out before (c2, p2). */
  private before(c1: number, p1: number, c2: number, p2: number): boolean {
    if (c1 !== c2) return c1 > c2;
    const a1 = this.pairA[p1];
    const a2 = this.pairA[p2];
    if (a1 !== a2) return a1 < a2;
    return this.pairB[p1] < this.pairB[p2];
  }

  push(count: number, pid: number): void {
    const counts = this.counts;
    const pids = this.pids;
    let i = pids.length;
    counts.push(count);
    pids.push(pid);
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.before(count, pid, counts[parent], pids[parent])) break;
      counts[i] = counts[parent];
      pids[i] = pids[parent];
      i = parent;
    }
    counts[i] = count;
    pids[i] = pid;
  }

  pop(): void {
    const counts = this.counts;
    const pids = this.pids;
    const lastC = counts.pop() as number;
    const lastP = pids.pop() as number;
    const n = pids.length;
    if (n === 0) return;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) break;
      const r = l + 1;
      let best = l;
      if (r < n && this.before(counts[r], pids[r], counts[l], pids[l])) best = r;
      if (!this.before(counts[best], pids[best], lastC, lastP)) break;
      counts[i] = counts[best];
      pids[i] = pids[best];
      i = best;
    }
    counts[i] = lastC;
    pids[i] = lastP;
  }
}

/** Min-heap keyed by (rank, position), used to apply merges inside one chunk. */
class RankHeap {
  ranks: Int32Array;
  poss: Int32Array;
  size = 0;
  constructor(capacity: number) {
    this.ranks = new Int32Array(capacity);
    this.poss = new Int32Array(capacity);
  }

  reset(capacity: number): void {
    if (this.ranks.length < capacity) {
      this.ranks = new Int32Array(capacity);
      this.poss = new Int32Array(capacity);
    }
    this.size = 0;
  }

  push(rank: number, pos: number): void {
    const ranks = this.ranks;
    const poss = this.poss;
    if (this.size === ranks.length) {
      const r = new Int32Array(ranks.length * 2);
      r.set(ranks);
      const p = new Int32Array(poss.length * 2);
      p.set(poss);
      this.ranks = r;
      this.poss = p;
      return this.push(rank, pos);
    }
    let i = this.size++;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      const pr = ranks[parent];
      if (pr < rank || (pr === rank && poss[parent] < pos)) break;
      ranks[i] = pr;
      poss[i] = poss[parent];
      i = parent;
    }
    ranks[i] = rank;
    poss[i] = pos;
  }

  pop(): void {
    const ranks = this.ranks;
    const poss = this.poss;
    const n = --this.size;
    if (n === 0) return;
    const lr = ranks[n];
    const lp = poss[n];
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) break;
      const r = l + 1;
      let best = l;
      if (r < n && (ranks[r] < ranks[l] || (ranks[r] === ranks[l] && poss[r] < poss[l]))) best = r;
      if (ranks[best] > lr || (ranks[best] === lr && poss[best] > lp)) break;
      ranks[i] = ranks[best];
      poss[i] = poss[best];
      i = best;
    }
    ranks[i] = lr;
    poss[i] = lp;
  }
}

// ---------------------------------------------------------------------------

export class Tokenizer {
  /** 260 + merges.length. */
  readonly vocabSize: number;
  private readonly merges: ReadonlyArray<readonly [number, number]>;
  private readonly pretokenizerSource: string;
  private readonly re: RegExp;
  /** pair key (a * vocabSize + b) -> merge rank. */
  private readonly ranks = new Map<number, number>();
  private readonly bytesOf: Uint8Array[];
  private readonly cache = new Map<string, number[]>();
  // Scratch buffers for applying merges to one chunk.
  private sym = new Int32Array(64);
  private next = new Int32Array(64);
  private prev = new Int32Array(64);
  private readonly heap = new RankHeap(64);

  private constructor(merges: ReadonlyArray<readonly [number, number]>, pretokenizer: string, re: RegExp) {
    this.merges = merges;
    this.pretokenizerSource = pretokenizer;
    this.re = re;
    this.vocabSize = FIRST_MERGE_ID + merges.length;
    const bytesOf: Uint8Array[] = [];
    for (let id = 0; id < FIRST_BYTE_ID; id++) bytesOf.push(new Uint8Array(0));
    for (let b = 0; b < 256; b++) bytesOf.push(Uint8Array.of(b));
    for (let k = 0; k < merges.length; k++) {
      const [a, b] = merges[k];
      const x = bytesOf[a];
      const y = bytesOf[b];
      const z = new Uint8Array(x.length + y.length);
      z.set(x, 0);
      z.set(y, x.length);
      bytesOf.push(z);
      this.ranks.set(a * this.vocabSize + b, k);
    }
    this.bytesOf = bytesOf;
  }

  // ---- training -----------------------------------------------------------

  /**
   * Learns merges from `texts` until the vocabulary reaches `options.vocabSize`
   * or no pair occurs at least twice. Deterministic: ties between equally
   * frequent pairs go to the lowest (left id, right id).
   */
  static train(texts: Iterable<string>, options: TrainOptions): Tokenizer {
    const target = options.vocabSize;
    if (!Number.isInteger(target) || target < FIRST_MERGE_ID || target > FIRST_MERGE_ID + MAX_MERGES) {
      throw new Error(
        `Tokenizer.train: vocabSize must be an integer between ${FIRST_MERGE_ID} and ${FIRST_MERGE_ID + MAX_MERGES}, got ${String(target)}`,
      );
    }
    const totalMerges = target - FIRST_MERGE_ID;
    const onProgress = options.onProgress;
    const re = compilePretokenizer(DEFAULT_PRETOKENIZER);

    // 1. Unique chunks with frequencies.
    const freqOf = new Map<string, number>();
    const countChunk = (c: string): void => {
      freqOf.set(c, (freqOf.get(c) ?? 0) + 1);
    };
    for (const text of texts) splitChunks(re, text, countChunk);

    // 2. Words as symbol arrays (byte ids); single-symbol words cannot merge.
    const words: number[][] = [];
    const freqs: number[] = [];
    for (const [chunk, f] of freqOf) {
      const bytes = encodeWtf8(chunk);
      if (bytes.length < 2) continue;
      const w = new Array<number>(bytes.length);
      for (let i = 0; i < bytes.length; i++) w[i] = bytes[i] + FIRST_BYTE_ID;
      words.push(w);
      freqs.push(f);
    }
    freqOf.clear();

    // 3. Pair statistics: counts, and for each pair the words that (may) contain it.
    const keyMul = target;
    const pairId = new Map<number, number>();
    const pairA: number[] = [];
    const pairB: number[] = [];
    const pairCount: number[] = [];
    const pairWords: number[][] = [];
    const touched: number[] = []; // pair ids created during the current merge
    const getPair = (a: number, b: number): number => {
      const key = a * keyMul + b;
      let pid = pairId.get(key);
      if (pid === undefined) {
        pid = pairA.length;
        pairId.set(key, pid);
        pairA.push(a);
        pairB.push(b);
        pairCount.push(0);
        pairWords.push([]);
        touched.push(pid);
      }
      return pid;
    };
    const addWord = (pid: number, w: number): void => {
      const list = pairWords[pid];
      if (list.length === 0 || list[list.length - 1] !== w) list.push(w);
    };
    for (let w = 0; w < words.length; w++) {
      const s = words[w];
      const f = freqs[w];
      for (let i = 0; i + 1 < s.length; i++) {
        const pid = getPair(s[i], s[i + 1]);
        pairCount[pid] += f;
        addWord(pid, w);
      }
    }
    const heap = new PairHeap(pairA, pairB);
    for (const pid of touched) heap.push(pairCount[pid], pid);
    touched.length = 0;

    // 4. Merge loop.
    const merges: [number, number][] = [];
    const seen = new Int32Array(words.length).fill(-1); // last merge that visited a word
    const mergedAt: boolean[] = [];
    while (merges.length < totalMerges && heap.size > 0) {
      const count = heap.topCount();
      const pid = heap.topPid();
      const current = pairCount[pid];
      if (current !== count) {
        // Stale entry: counts of existing pairs only ever decrease.
        heap.pop();
        if (current > 0) heap.push(current, pid);
        continue;
      }
      if (count < 2) break;
      heap.pop();
      const a = pairA[pid];
      const b = pairB[pid];
      const k = merges.length;
      const n = FIRST_MERGE_ID + k;
      merges.push([a, b]);
      const list = pairWords[pid];
      pairWords[pid] = [];
      for (let li = 0; li < list.length; li++) {
        const w = list[li];
        if (seen[w] === k) continue;
        seen[w] = k;
        const s = words[w];
        const len = s.length;
        let hit = false;
        for (let i = 0; i + 1 < len; i++) {
          if (s[i] === a && s[i + 1] === b) {
            hit = true;
            break;
          }
        }
        if (!hit) continue;
        const f = freqs[w];
        // Remove old pairs that touch a merged position; build the new word.
        const out: number[] = [];
        mergedAt.length = 0;
        let lastRemoved = -1; // index j of the last old pair (s[j], s[j+1]) removed
        let i = 0;
        while (i < len) {
          if (i + 1 < len && s[i] === a && s[i + 1] === b) {
            for (let j = i - 1; j <= i + 1; j++) {
              if (j < 0 || j + 1 >= len || j <= lastRemoved) continue;
              const key = s[j] * keyMul + s[j + 1];
              const q = pairId.get(key) as number;
              pairCount[q] -= f;
              lastRemoved = j;
            }
            out.push(n);
            mergedAt.push(true);
            i += 2;
          } else {
            out.push(s[i]);
            mergedAt.push(false);
            i++;
          }
        }
        // Add the new pairs, all of which contain the new token n.
        for (let j = 0; j + 1 < out.length; j++) {
          if (!mergedAt[j] && !mergedAt[j + 1]) continue;
          const q = getPair(out[j], out[j + 1]);
          pairCount[q] += f;
          addWord(q, w);
        }
        words[w] = out;
      }
      for (const q of touched) if (pairCount[q] > 0) heap.push(pairCount[q], q);
      touched.length = 0;
      if (onProgress) onProgress(merges.length, totalMerges);
    }
    return new Tokenizer(merges, DEFAULT_PRETOKENIZER, re);
  }

  // ---- serialization ------------------------------------------------------

  /** Validates and loads a tokenizer saved by toJSON (an object or its JSON text). */
  static fromJSON(json: unknown): Tokenizer {
    const fail = (msg: string): never => {
      throw new Error(`tokenizer.json: ${msg}`);
    };
    let value = json;
    if (typeof value === 'string') {
      try {
        value = JSON.parse(value) as unknown;
      } catch (e) {
        fail(`not valid JSON (${(e as Error).message})`);
      }
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      return fail('expected an object');
    }
    const o = value as Record<string, unknown>;
    if (o.kind !== 'byte-bpe') fail(`kind must be "byte-bpe", got ${describe(o.kind)}`);
    if (o.version !== 1) fail(`unsupported version ${describe(o.version)} (expected 1)`);
    if (typeof o.pretokenizer !== 'string') fail(`pretokenizer must be a string, got ${describe(o.pretokenizer)}`);
    const source = o.pretokenizer as string;
    if (!KNOWN_PRETOKENIZERS.includes(source)) {
      fail(
        `pretokenizer ${describe(source)} is not one TextVAE writes; it is refused unrun (a foreign pattern could take exponential time)`,
      );
    }
    const re = compilePretokenizer(source);
    if (!Array.isArray(o.merges)) return fail(`merges must be an array, got ${describe(o.merges)}`);
    const raw = o.merges as unknown[];
    if (raw.length > MAX_MERGES) fail(`too many merges (${raw.length} > ${MAX_MERGES})`);
    const merges: [number, number][] = [];
    const firstIndex = new Map<number, number>();
    const keyMul = FIRST_MERGE_ID + raw.length;
    for (let k = 0; k < raw.length; k++) {
      const m = raw[k];
      if (!Array.isArray(m) || m.length !== 2) fail(`merge ${k} must be a pair [left, right], got ${describe(m)}`);
      const pair = m as unknown[];
      const newId = FIRST_MERGE_ID + k;
      for (const x of pair) {
        if (typeof x !== 'number' || !Number.isInteger(x)) fail(`merge ${k} has a non-integer token id ${describe(x)}`);
        const id = x as number;
        if (id >= newId || id < 0) fail(`merge ${k} refers to unknown token ${id}`);
        if (id < FIRST_BYTE_ID) fail(`merge ${k} refers to special token ${id}`);
      }
      const a = pair[0] as number;
      const b = pair[1] as number;
      const key = a * keyMul + b;
      const prior = firstIndex.get(key);
      if (prior !== undefined) fail(`merge ${k} duplicates merge ${prior} [${a}, ${b}]`);
      firstIndex.set(key, k);
      merges.push([a, b]);
    }
    return new Tokenizer(merges, source, re);
  }

  toJSON(): TokenizerJSON {
    return {
      kind: 'byte-bpe',
      version: 1,
      merges: this.merges.map(([a, b]) => [a, b] as [number, number]),
      pretokenizer: this.pretokenizerSource,
    };
  }

  // ---- encoding -----------------------------------------------------------

  /** Token ids of `text`; no special tokens are added. */
  encode(text: string): number[] {
    const ids: number[] = [];
    const cache = this.cache;
    splitChunks(this.re, text, (chunk) => {
      let t = cache.get(chunk);
      if (t === undefined) {
        t = this.encodeChunk(chunk);
        if (chunk.length <= CACHE_MAX_CHUNK) {
          if (cache.size >= CACHE_LIMIT) cache.delete(cache.keys().next().value as string);
          cache.set(chunk, t);
        }
      }
      for (let i = 0; i < t.length; i++) ids.push(t[i]);
    });
    return ids;
  }

  /**
   * Applies merges by rank to one chunk: repeatedly merges the lowest-ranked
   * adjacent pair, leftmost first (heap with lazy deletion, O(n log n)).
   */
  private encodeChunk(chunk: string): number[] {
    const bytes = encodeWtf8(chunk);
    const n = bytes.length;
    if (n === 1 || this.merges.length === 0) {
      const ids = new Array<number>(n);
      for (let i = 0; i < n; i++) ids[i] = bytes[i] + FIRST_BYTE_ID;
      return ids;
    }
    if (this.sym.length < n) {
      const cap = Math.max(n, this.sym.length * 2);
      this.sym = new Int32Array(cap);
      this.next = new Int32Array(cap);
      this.prev = new Int32Array(cap);
    }
    const sym = this.sym;
    const next = this.next;
    const prev = this.prev;
    const ranks = this.ranks;
    const keyMul = this.vocabSize;
    const heap = this.heap;
    heap.reset(n);
    for (let i = 0; i < n; i++) {
      sym[i] = bytes[i] + FIRST_BYTE_ID;
      next[i] = i + 1 < n ? i + 1 : -1;
      prev[i] = i - 1;
    }
    for (let i = 0; i + 1 < n; i++) {
      const r = ranks.get(sym[i] * keyMul + sym[i + 1]);
      if (r !== undefined) heap.push(r, i);
    }
    while (heap.size > 0) {
      const r = heap.ranks[0];
      const i = heap.poss[0];
      heap.pop();
      // Validate: i must still be alive with the same pair to its right.
      if (sym[i] < 0) continue;
      const j = next[i];
      if (j < 0) continue;
      if (ranks.get(sym[i] * keyMul + sym[j]) !== r) continue;
      sym[i] = FIRST_MERGE_ID + r;
      sym[j] = -1; // dead
      const jn = next[j];
      next[i] = jn;
      if (jn >= 0) prev[jn] = i;
      const p = prev[i];
      if (p >= 0) {
        const rl = ranks.get(sym[p] * keyMul + sym[i]);
        if (rl !== undefined) heap.push(rl, p);
      }
      if (jn >= 0) {
        const rr = ranks.get(sym[i] * keyMul + sym[jn]);
        if (rr !== undefined) heap.push(rr, i);
      }
    }
    const ids: number[] = [];
    for (let i = 0; i >= 0; i = next[i]) ids.push(sym[i]);
    return ids;
  }

  // ---- decoding -----------------------------------------------------------

  /**
   * Text of `ids`. Special tokens are skipped; invalid byte sequences become
   * U+FFFD; ids outside the vocabulary (or not integers) also become U+FFFD.
   */
  decode(ids: ArrayLike<number>): string {
    const bytesOf = this.bytesOf;
    const V = this.vocabSize;
    let total = 0;
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i];
      total += id >= 0 && id < V && Number.isInteger(id) ? bytesOf[id].length : 3;
    }
    const buf = new Uint8Array(total);
    let p = 0;
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i];
      if (id >= 0 && id < V && Number.isInteger(id)) {
        const t = bytesOf[id];
        if (t.length === 1) buf[p++] = t[0];
        else {
          buf.set(t, p);
          p += t.length;
        }
      } else {
        buf[p++] = 0xef;
        buf[p++] = 0xbf;
        buf[p++] = 0xbd;
      }
    }
    return decodeWtf8(buf);
  }

  /** Bytes of one token (empty for special tokens). Throws RangeError for unknown ids. */
  tokenBytes(id: number): Uint8Array {
    this.checkId(id);
    return this.bytesOf[id].slice();
  }

  /**
   * Readable form of one token for UI/debugging: '<pad>', '<bos>', '<eos>',
   * '<mask>' for specials; otherwise the token's text, with bytes that do not
   * form a complete character shown as '<0xHH>'.
   */
  tokenText(id: number): string {
    this.checkId(id);
    if (id < FIRST_BYTE_ID) return SPECIAL_NAMES[id];
    const bytes = this.bytesOf[id];
    let out = '';
    let start = 0; // start of the pending valid run
    let i = 0;
    while (i < bytes.length) {
      const len = wtf8SequenceLength(bytes, i);
      if (len > 0) {
        i += len;
        continue;
      }
      if (i > start) out += decodeWtf8(bytes.subarray(start, i));
      out += `<0x${bytes[i].toString(16).toUpperCase().padStart(2, '0')}>`;
      i++;
      start = i;
    }
    if (i > start) out += decodeWtf8(bytes.subarray(start, i));
    return out;
  }

  private checkId(id: number): void {
    if (!Number.isInteger(id) || id < 0 || id >= this.vocabSize) {
      throw new RangeError(`Tokenizer: token id ${id} is outside the vocabulary (0..${this.vocabSize - 1})`);
    }
  }
}

function describe(v: unknown): string {
  if (typeof v === 'string') return JSON.stringify(v.length > 40 ? v.slice(0, 40) + '…' : v);
  if (v === undefined) return 'undefined';
  try {
    const s = JSON.stringify(v);
    if (s === undefined) return String(v);
    return s.length > 40 ? s.slice(0, 40) + '…' : s;
  } catch {
    return String(v);
  }
}
