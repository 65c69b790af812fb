/**
 * What coding each block's grid point under the fitted transition z' ~ N(Az + b, Σ) (prior.json),
 * given the previous block's grid point, would save against the discretised N(0, 1) the coder uses
 * (latentPart.ts). Ideal bits only (no code is made): blocks as the coder cuts text (chunkText,
 * ≤ maxTokens), z = the posterior mean on the coder's grid, every block counted as coded with z.
 * The cells' probabilities come from the conditionals of Σ (Cholesky), each cell at least 1/2¹⁶.
 *
 *   node --import tsx scripts/lossless-latent-transition.ts --model models/default --data DIR [--data DIR]
 *     [--split val] [--min-kb 32] [--max-kb 1024]
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { initBackend } from '../src/core/backend';
import { TextVae } from '../src/core/textVae';
import { collectCorpus } from '../src/core/corpus';
import { splitForTraining } from '../src/core/split';
import { DEFAULT_VAL_FRACTION } from '../src/core/trainingRun';
import { chunkText } from '../src/core/chunker';
import { cholesky } from '../src/core/latentPrior';
import { LATENT_STEP, QMAX, latentBits, latentFrame, latentOf, quantiseLatent } from '../src/core/lossless/latentPart';

const { values } = parseArgs({
  options: {
    model: { type: 'string', default: 'models/default' },
    data: { type: 'string', multiple: true },
    split: { type: 'string', default: 'val' },
    'min-kb': { type: 'string', default: '32' },
    'max-kb': { type: 'string', default: '1024' },
  },
});

/** Standard normal CDF (Abramowitz–Stegun 7.1.26; a measurement, not a code). */
function phi(x: number): number {
  const t = 1 / (1 + (0.3275911 * Math.abs(x)) / Math.SQRT2);
  const y =
    1 -
    ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t + 0.254829592) *
      t *
      Math.exp(-(x * x) / 2);
  return x >= 0 ? (1 + y) / 2 : (1 - y) / 2;
}

async function main(): Promise<void> {
  if (!values.data?.length) throw new Error('--data DIR is required');
  await initBackend('auto');
  const vae = await TextVae.load(values.model!);
  const prior = JSON.parse(fs.readFileSync(path.join(values.model!, 'prior.json'), 'utf8'));
  const t = prior.transition;
  if (!t) throw new Error('the bundle has no fitted transition');
  const D = vae.config.latentDim;
  const A = Float64Array.from(t.matrix.flat() as number[]);
  const L = cholesky(Float64Array.from(t.covariance.flat() as number[]), D);
  const weights = await vae.model.exportWeights();
  const frame = latentFrame(vae.config, weights['latent.mean'].data, weights['latent.std'].data);
  const { files } = await collectCorpus(values.data);
  const sorted = files.slice().sort((a, b) => (a.relativePath < b.relativePath ? -1 : 1));
  const held = new Set(splitForTraining(sorted, DEFAULT_VAL_FRACTION).val);
  const [lo, hi] = [Number(values['min-kb']) * 1024, Number(values['max-kb']) * 1024];
  const chosen = sorted.filter((f) => (values.split !== 'val' || held.has(f.text)) && f.bytes >= lo && f.bytes <= hi);
  const M = vae.config.maxTokens;
  let bytes = 0;
  let blocks = 0;
  let standard = 0;
  let transition = 0;
  for (const f of chosen) {
    const texts: string[] = [];
    for (const piece of chunkText(f.text, (s) => vae.tokenizer.encode(s).length, M)) {
      const ids = vae.tokenizer.encode(piece);
      for (let i = 0; i < ids.length; i += M) texts.push(vae.tokenizer.decode(ids.slice(i, i + M)));
    }
    const mus = await vae.encodeChunks(texts);
    let prev: Float64Array | null = null;
    for (const mu of mus) {
      const q = quantiseLatent(mu, frame);
      const z = latentOf(q, frame);
      const own = latentBits(q);
      standard += own;
      if (!prev) transition += own;
      else {
        // z_j | z_<j ~ N(m_j + Σ_k<j L_jk ε_k, L_jj²), m = A·prev + b; cells of the grid, the outer ones open.
        const eps = new Float64Array(D);
        for (let j = 0; j < D; j++) {
          let m = t.offset[j] as number;
          for (let k = 0; k < D; k++) m += A[j * D + k] * prev[k];
          for (let k = 0; k < j; k++) m += L[j * D + k] * eps[k];
          const s = L[j * D + j];
          const cell = (k: number) => frame.mean[j] + frame.std[j] * (k - QMAX + 0.5) * LATENT_STEP;
          const upper = q[j] === 2 * QMAX ? 1 : phi((cell(q[j]) - m) / s);
          const lower = q[j] === 0 ? 0 : phi((cell(q[j] - 1) - m) / s);
          transition -= Math.log2(Math.max(upper - lower, 1 / 65536));
          eps[j] = (z[j] - m) / s;
        }
      }
      prev = z;
      blocks++;
    }
    bytes += Buffer.byteLength(f.text);
  }
  const bpb = (bits: number) => +(bits / bytes).toFixed(4);
  console.log(
    JSON.stringify({
      model: vae.fingerprint.slice(0, 8),
      files: chosen.length,
      bytes,
      blocks,
      z_bits_per_block: { standard: +(standard / blocks).toFixed(2), transition: +(transition / blocks).toFixed(2) },
      z_bits_per_byte: { standard: bpb(standard), transition: bpb(transition) },
      saved_bits_per_byte: bpb(standard - transition),
    }),
  );
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
