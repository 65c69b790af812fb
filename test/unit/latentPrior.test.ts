/**
 * The fitted latent prior (src/core/latentPrior.ts): EM recovers a known mixture, least squares a
 * known transition, and prior.json is checked like every other bundle file. Then a tiny model's
 * bundle with and without a prior (scripts/fit-prior.ts's fitPriorBundle).
 */
import { test, describe, before } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';

import {
  LatentPrior,
  cholesky,
  fitMixture,
  fitTransition,
  priorJson,
  standardNormalLogDensity,
  type LatentPriorJson,
} from '../../src/core/latentPrior';
import { Random } from '../../src/core/random';
import { klToPrior } from '../../src/core/evaluate';
import { TextVae } from '../../src/core/textVae';
import { fitPriorBundle } from '../../src/core/latentStats';
import { SENTENCES, TINY_DOC, once, setupBackend, sharedTiny } from '../helpers/engine';
import { makeTempDir } from '../helpers/tmp';
import { createHash } from 'node:crypto';

/** Points from a known mixture in 3 dimensions: well separated, with correlated components. */
const TRUE = {
  weights: [0.5, 0.3, 0.2],
  means: [
    [0, 0, 0],
    [6, -4, 2],
    [-5, 5, -6],
  ],
  /** Lower Cholesky factors of the components' covariances. */
  chol: [
    [
      [1, 0, 0],
      [0.5, 0.8, 0],
      [0, 0.3, 0.6],
    ],
    [
      [0.5, 0, 0],
      [0, 1.2, 0],
      [0.2, 0, 0.4],
    ],
    [
      [0.8, 0, 0],
      [-0.4, 0.5, 0],
      [0, 0, 1],
    ],
  ],
};

function drawTrue(n: number, rng: Random): Float64Array[] {
  return Array.from({ length: n }, () => {
    const u = rng.next();
    const k = u < 0.5 ? 0 : u < 0.8 ? 1 : 2;
    const e = [rng.normal(), rng.normal(), rng.normal()];
    return Float64Array.from(TRUE.means[k], (m, i) => m + TRUE.chol[k][i].reduce((s, l, j) => s + l * e[j], 0));
  });
}

const covOf = (l: number[][]) => l.map((r) => l.map((s) => r.reduce((a, x, k) => a + x * s[k], 0)));

describe('fitting', () => {
  test('EM recovers a known three-component mixture, the same on every run with the same seed', () => {
    const points = drawTrue(3000, new Random(5));
    const fit = fitMixture(points, { components: 3, seed: 1 });
    assert.equal(fit.mixture.weights.length, 3);
    for (let k = 0; k < 3; k++) {
      // Match fitted components to true ones by their means.
      const j = fit.mixture.means.findIndex((m) => m.every((v, i) => Math.abs(v - TRUE.means[k][i]) < 0.2));
      assert.ok(j >= 0, `a fitted component near true mean ${TRUE.means[k].join(', ')}`);
      assert.ok(Math.abs(fit.mixture.weights[j] - TRUE.weights[k]) < 0.04, `weight of component ${k}`);
      const want = covOf(TRUE.chol[k]);
      fit.mixture.covariances[j].forEach((row, a) =>
        row.forEach((v, b) => assert.ok(Math.abs(v - want[a][b]) < 0.15, `covariance ${k} [${a}][${b}]: ${v}`)),
      );
    }
    assert.deepEqual(fitMixture(points, { components: 3, seed: 1 }).mixture, fit.mixture);
    // One diagonal component is a worse description of these points than three full ones.
    const one = fitMixture(points, { components: 1, covariance: 'diag' });
    assert.ok(one.logLikelihood < fit.logLikelihood - 1, `${one.logLikelihood} vs ${fit.logLikelihood}`);
    assert.ok(one.mixture.covariances[0].every((row, a) => row.every((v, b) => a === b || v === 0)));
  });

  test('least squares recovers a known transition z′ = A z + b + noise', () => {
    const rng = new Random(3);
    const A = [
      [0.6, 0.2, 0],
      [-0.1, 0.5, 0.3],
      [0, 0, 0.8],
    ];
    const b = [1, -2, 0.5];
    const sd = [0.3, 0.5, 0.2];
    const pairs: [Float64Array, Float64Array][] = [];
    for (let doc = 0; doc < 200; doc++) {
      let z = Float64Array.from([rng.normal() * 2, rng.normal() * 2, rng.normal() * 2]);
      for (let t = 0; t < 20; t++) {
        const next = Float64Array.from(
          A,
          (row, i) => row.reduce((s, a, j) => s + a * z[j], b[i]) + sd[i] * rng.normal(),
        );
        pairs.push([z, next]);
        z = next;
      }
    }
    const { transition } = fitTransition(pairs);
    transition.matrix.forEach((row, i) =>
      row.forEach((v, j) => assert.ok(Math.abs(v - A[i][j]) < 0.05, `A[${i}][${j}] ${v}`)),
    );
    transition.offset.forEach((v, i) => assert.ok(Math.abs(v - b[i]) < 0.1, `b[${i}] ${v}`));
    transition.covariance.forEach((row, i) =>
      row.forEach((v, j) => assert.ok(Math.abs(v - (i === j ? sd[i] ** 2 : 0)) < 0.02, `Σ[${i}][${j}] ${v}`)),
    );
  });
});

function smallPrior(): LatentPriorJson {
  const mixture = fitMixture(drawTrue(600, new Random(1)), { components: 3, seed: 2 }).mixture;
  const pairs = drawTrue(101, new Random(2)).map((z, i, all) => [z, all[(i + 1) % all.length]] as const);
  return priorJson(3, mixture, fitTransition(pairs).transition);
}

describe('the prior in use', () => {
  test('draws follow the mixture; densities are normalised Gaussians', () => {
    const prior = LatentPrior.fromJSON(JSON.parse(JSON.stringify(smallPrior())), 3);
    const rng = new Random(9);
    const draws = Array.from({ length: 4000 }, () => prior.draw(rng));
    // Each true component gets about its share of the draws.
    const near = (m: number[]) => draws.filter((z) => z.every((v, i) => Math.abs(v - m[i]) < 3)).length / draws.length;
    TRUE.means.forEach((m, k) => assert.ok(Math.abs(near(m) - TRUE.weights[k]) < 0.06, `share near component ${k}`));
    // A smaller spread keeps draws closer to their component's mean.
    const tight = Array.from({ length: 500 }, () => prior.draw(rng, 0.1));
    assert.ok(tight.every((z) => TRUE.means.some((m) => z.every((v, i) => Math.abs(v - m[i]) < 0.6))));
    // One standard component: the density is N(0, I)'s.
    const standard = LatentPrior.fromJSON(
      priorJson(2, {
        weights: [1],
        means: [[0, 0]],
        covariances: [
          [
            [1, 0],
            [0, 1],
          ],
        ],
      }),
      2,
    );
    assert.ok(Math.abs(standard.logDensity([0.3, -1]) - standardNormalLogDensity([0.3, -1])) < 1e-12);
    assert.ok(Math.abs(standard.logDensity([0, 0]) + Math.log(2 * Math.PI)) < 1e-12);
    // Without a transition, the next code is a fresh draw, and its density the mixture's.
    assert.equal(standard.hasTransition, false);
    assert.equal(standard.transitionLogDensity([5, 5], [0.3, -1]), standard.logDensity([0.3, -1]));
  });

  test('a bad prior.json is refused with a message that names the problem', () => {
    const good = smallPrior();
    const bad = (edit: (p: Record<string, any>) => void) => {
      const p = JSON.parse(JSON.stringify(good));
      edit(p);
      return p;
    };
    const cases: [unknown, RegExp][] = [
      [[], /must be a JSON object/],
      [bad((p) => (p.format = 'x')), /format must be "textvae-latent-prior"/],
      [bad((p) => (p.formatVersion = 9)), /formatVersion 9 is not supported/],
      [bad((p) => (p.latentDim = 4)), /for 4 latent dimensions; the model has 3/],
      [bad((p) => p.mixture.means.pop()), /mixture\.means must hold 3 means/],
      [bad((p) => (p.mixture.means[1][2] = 'x')), /mixture\.means\[1\] holds "x"/],
      [bad((p) => (p.mixture.weights[0] = -1)), /non-negative/],
      [bad((p) => (p.mixture.covariances[0][0][0] = -5)), /not positive definite/],
      [bad((p) => (p.transition.matrix = [[1]])), /transition\.matrix must be a 3×3 matrix/],
      [
        bad((p) => (p.transition.covariance[0][2] += 0.5)),
        /transition\.covariance is not symmetric \(row 2, column 0\)/,
      ],
    ];
    for (const [value, message] of cases) assert.throws(() => LatentPrior.fromJSON(value, 3), message);
    assert.throws(() => cholesky(Float64Array.from([1, 2, 2, 1]), 2), /not positive definite/);
  });
});

describe('the −ELBO under the fitted prior', () => {
  const eye = (n: number, v = 1) =>
    Array.from({ length: n }, (_, i) => Array.from({ length: n }, (_, j) => (i === j ? v : 0)));
  const standard = LatentPrior.fromJSON(priorJson(2, { weights: [1], means: [[0, 0]], covariances: [eye(2)] }), 2);

  test('against a prior that is N(0, I), the sampled KL is the closed form', () => {
    const mus = [Float32Array.from([0.5, -1.2]), Float32Array.from([2, 0.1]), Float32Array.from([-0.3, 0.4])];
    const logvars = [Float32Array.from([-1, -2]), Float32Array.from([0.3, -0.5]), Float32Array.from([-3, 0])];
    let exact = 0;
    mus.forEach((m, i) => m.forEach((v, j) => (exact += 0.5 * (v * v + Math.exp(logvars[i][j]) - 1 - logvars[i][j]))));
    const sampled = klToPrior(standard, mus, logvars, [{}, {}, {}], 20000, 3);
    assert.ok(Math.abs(sampled - exact) < 0.02 * exact, `${sampled} against ${exact}`);
  });

  test("a transition that predicts a document's next code lowers the KL, and each document starts afresh", () => {
    // Codes drift slowly within a document; the transition says z′ ≈ z, the mixture is broad.
    const prior = LatentPrior.fromJSON(
      priorJson(
        2,
        { weights: [1], means: [[0, 0]], covariances: [eye(2, 9)] },
        { matrix: eye(2), offset: [0, 0], covariance: eye(2, 0.05) },
      ),
      2,
    );
    const mus = [
      [1, 1],
      [1.1, 0.9],
      [1.2, 1],
      [-4, 3],
      [-4.1, 3.1],
    ].map((m) => Float32Array.from(m));
    const logvars = mus.map(() => Float32Array.from([-4, -4]));
    const docs = [0, 0, 0, 1, 1].map((doc) => ({ doc }));
    const withTransition = klToPrior(prior, mus, logvars, docs, 200, 1);
    const mixtureOnly = klToPrior(
      LatentPrior.fromJSON(priorJson(2, { weights: [1], means: [[0, 0]], covariances: [eye(2, 9)] }), 2),
      mus,
      logvars,
      docs,
      200,
      1,
    );
    assert.ok(withTransition < mixtureOnly - 5, `${withTransition} against ${mixtureOnly}`);
    // Scored as one document, the jump from the third code to the fourth is a transition (far off).
    const oneDocument = klToPrior(
      prior,
      mus,
      logvars,
      mus.map(() => ({ doc: 0 })),
      200,
      1,
    );
    assert.ok(oneDocument > withTransition + 50, `${oneDocument} against ${withTransition}`);
  });
});

const tiny = once(() => sharedTiny({ maxSteps: 40, fitPrior: false }));

before(async () => {
  await setupBackend();
});

const digest = (dir: string) =>
  fs
    .readdirSync(dir)
    .sort()
    .map(
      (f) =>
        `${f}:${createHash('sha256')
          .update(fs.readFileSync(path.join(dir, f)))
          .digest('hex')}`,
    );

describe('bundles with a prior', () => {
  test('fitPriorBundle writes a new bundle with prior.json; the model, its codes and the source stay the same', async () => {
    const src = (await tiny()).dir;
    const before = digest(src);
    const out = path.join(makeTempDir('textvae-prior-'), 'with-prior');
    const texts = [TINY_DOC, SENTENCES.slice(2).join('\n\n'), SENTENCES.slice().reverse().join('\n\n')];
    const prior = await fitPriorBundle(src, out, { train: texts, heldOut: [TINY_DOC], components: 2, command: 'fit' });
    assert.deepEqual(digest(src), before, 'the source bundle is untouched');
    await assert.rejects(fitPriorBundle(src, out, { train: texts }), /already exists/);
    await assert.rejects(fitPriorBundle(src, src, { train: texts }), /must differ/);
    assert.ok(prior.transition, 'consecutive chunks give a transition');
    assert.match(fs.readFileSync(path.join(out, 'COMMAND.md'), 'utf8'), /prior\.json[\s\S]*fit/);

    const [plain, fitted] = [await TextVae.load(src), await TextVae.load(out)];
    try {
      assert.equal(plain.prior, null);
      assert.ok(fitted.prior && fitted.prior.hasTransition);
      assert.equal(fitted.fingerprint, plain.fingerprint);
      assert.deepEqual(await fitted.encodeToCodes(TINY_DOC), await plain.encodeToCodes(TINY_DOC));
      // Held-out figures: the N(0, I) ones unchanged, and with a prior also the −ELBO under it.
      const [plainEval, fittedEval] = [await plain.evaluateTexts(texts), await fitted.evaluateTexts(texts)];
      assert.equal(plainEval.fitted_bits_per_byte, undefined, 'no prior, no fitted figure');
      assert.equal(fittedEval.bits_per_byte, plainEval.bits_per_byte);
      const { fitted_bits_per_byte: total, fitted_kl_bits_per_byte: kl } = fittedEval;
      assert.ok(Number.isFinite(kl) && Math.abs(total! - (fittedEval.recon_bits_per_byte + kl!)) < 1e-9);
      // Without a prior, sampling is N(0, I) as before; with one, codes come from it.
      const options = { seed: 4, temperature: 0.8 };
      const standardZ = await plain.priorSamples(5, 4);
      assert.deepEqual(await fitted.priorSamples(5, 4, { latentPrior: 'standard' }), standardZ);
      const fittedZ = await fitted.priorSamples(5, 4);
      assert.notDeepEqual(fittedZ, standardZ);
      assert.deepEqual(await fitted.sample(5, { ...options, latentPrior: 'standard' }), await plain.sample(5, options));
      // Paragraphs: three codes per sample, each decoded; the texts are the chunks joined.
      const zs = await fitted.priorSamples(2, 4, { chunks: 3 });
      assert.equal(zs.length, 6);
      const paragraphs = await fitted.sample(2, { ...options, chunks: 3 });
      const chunkTexts = await fitted.decode(zs, { strategy: 'sample', noRepeatNgram: 3, ...options, seed: 5 });
      assert.deepEqual(paragraphs, [chunkTexts.slice(0, 3).join(''), chunkTexts.slice(3).join('')]);
      // The best of several candidates is one of the texts the candidates decode to.
      const [best] = await fitted.sample(1, { ...options, candidates: 3 });
      const all = await fitted.decode(await fitted.priorSamples(3, 4), {
        strategy: 'sample',
        noRepeatNgram: 3,
        ...options,
        seed: 5,
      });
      assert.ok(all.includes(best), `${JSON.stringify(best)} is one of ${JSON.stringify(all)}`);
      await assert.rejects(fitted.sample(1, { chunks: 17 }), /chunks per sample must be/);
      await assert.rejects(fitted.sample(1, { candidates: 0 }), /candidates must be/);
    } finally {
      plain.dispose();
      fitted.dispose();
    }
  });

  test('a corrupted or mismatched prior.json fails to load with a clear error', async () => {
    const src = (await tiny()).dir;
    const root = makeTempDir('textvae-prior-bad-');
    const out = path.join(root, 'with-prior');
    await fitPriorBundle(src, out, { train: [TINY_DOC], components: 1 });
    const file = path.join(out, 'prior.json');
    const text = fs.readFileSync(file, 'utf8');
    // A changed digit: the manifest's checksum catches it.
    const at = text.indexOf('"covariances":[[[') + 17;
    fs.writeFileSync(file, text.slice(0, at) + (text[at] === '7' ? '8' : '7') + text.slice(at + 1));
    await assert.rejects(TextVae.load(out), /prior\.json is corrupt: checksum mismatch/);
    // A prior that checks out against the manifest but not against the model: named, with the way out.
    const manifestPath = path.join(out, 'manifest.json');
    const manifest = JSON.parse(fs.readFileSync(manifestPath, 'utf8'));
    const wrong = JSON.stringify({ ...JSON.parse(text), latentDim: 3 });
    fs.writeFileSync(file, wrong);
    manifest.files['prior.json'] = {
      bytes: Buffer.byteLength(wrong),
      sha256: createHash('sha256').update(wrong).digest('hex'),
    };
    fs.writeFileSync(manifestPath, JSON.stringify(manifest));
    await assert.rejects(TextVae.load(out), (err: Error) => {
      assert.match(err.message, /prior\.json is for 3 latent dimensions; the model has 16/);
      assert.match(err.message, /remove prior\.json or fit it again/);
      assert.ok(err.message.startsWith(out), err.message);
      return true;
    });
  });
});
