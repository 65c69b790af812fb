/**
 * Exports a tokenised training set for scripts/gpu/train_torch.py, the PyTorch trainer for CUDA
 * machines (tfjs-node-gpu needs a libtensorflow build with CUDA that such a machine may not have).
 * The corpus, split, tokenizer and examples are made by the engine's own code, exactly as
 * `textvae train` makes them, so only the optimisation runs in Python.
 *
 *   node --import tsx scripts/gpu/export-dataset.ts --data .corpora/python-docs \
 *     --out gpu-data [--seed 1] [--val-fraction 0.05] [--parity-model models/default | --from DIR]
 *
 * --from DIR: a warm start. The examples are cut with DIR's tokenizer (no new one is trained), the
 * dataset takes DIR's config (every field), and DIR is the parity model, so the trainer starts from
 * its weights after proving that it computes the same loss with them (dataset.json's "from").
 *
 * Writes: dataset.json, tokenizer.json, {train,val}.tokens (uint16 LE, [N, maxTokens], PAD=0
 * after the end), {train,val}.bytes (uint32 LE, UTF-8 bytes per example). With --parity-model,
 * also parity/ (that model's weights) and parity.json: the engine's loss on the first validation
 * examples, which the trainer must reproduce before it starts.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../../src/core/backend';
import { collectCorpus } from '../../src/core/corpus';
import { splitForTraining } from '../../src/core/split';
import { makeExamples, type Example } from '../../src/core/dataset';
import { Tokenizer } from '../../src/core/tokenizer';
import { Random } from '../../src/core/random';
import { sampleTexts, TRAIN_DEFAULTS } from '../../src/core/train';
import { DEFAULT_CONFIG, TextVaeModel, makeBatch, weightShapes } from '../../src/core/model';
import { elboOptions, objective } from '../../src/core/objective';
import { loadBundle } from '../../src/core/bundle';
import { replaceDirAtomic } from '../../src/core/atomicFs';
import type { ModelConfig } from '../../src/core/types';

export const DATASET_FORMAT = 'textvae-dataset';
export const PARITY_EXAMPLES = 64;

function tokensFile(examples: Example[], maxTokens: number): Buffer {
  const out = Buffer.alloc(examples.length * maxTokens * 2);
  examples.forEach((ex, i) => ex.tokens.forEach((t, j) => out.writeUInt16LE(t, (i * maxTokens + j) * 2)));
  return out;
}

function bytesFile(examples: Example[]): Buffer {
  const out = Buffer.alloc(examples.length * 4);
  examples.forEach((ex, i) => out.writeUInt32LE(ex.bytes, i * 4));
  return out;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      data: { type: 'string', multiple: true },
      out: { type: 'string' },
      seed: { type: 'string', default: '1' },
      'val-fraction': { type: 'string', default: '0.05' },
      'parity-model': { type: 'string' },
      from: { type: 'string' },
    },
  });
  if (!values.data?.length || !values.out)
    throw new Error(
      'usage: export-dataset.ts --data PATH... --out DIR [--seed S] [--val-fraction F] [--parity-model DIR | --from DIR]',
    );
  if (values.from && values['parity-model'])
    throw new Error('--from DIR makes DIR the parity model: give --from or --parity-model, not both');
  const seed = Number(values.seed);
  const valFraction = Number(values['val-fraction']);
  const backend = await initBackend('auto');
  // Read before the corpus: a bundle that does not load is refused before any work.
  const parent = values.from ? await loadBundle(values.from, { expectedShapes: weightShapes }) : null;
  const config: ModelConfig = parent ? { ...parent.config } : { ...DEFAULT_CONFIG };

  const { files } = await collectCorpus(values.data);
  const split = splitForTraining(files, valFraction);
  const tokenizer = parent
    ? Tokenizer.fromJSON(parent.tokenizer)
    : Tokenizer.train(sampleTexts(split.train, TRAIN_DEFAULTS.tokenizerSampleBytes, new Random(seed + 1)), {
        vocabSize: config.vocabSize,
      });
  config.vocabSize = tokenizer.vocabSize;
  const train = makeExamples(split.train, tokenizer, config.maxTokens);
  const val = makeExamples(split.val, tokenizer, config.maxTokens);
  // The same validation sample as `textvae train` logs against.
  const valSample = new Random(seed + 2).shuffle(val.slice()).slice(0, TRAIN_DEFAULTS.maxValExamples);

  const out = values.out;
  const summary = (xs: Example[]) => ({
    examples: xs.length,
    tokens: xs.reduce((s, e) => s + e.tokens.length, 0),
    bytes: xs.reduce((s, e) => s + e.bytes, 0),
  });
  const tokenizerJson = JSON.stringify(tokenizer.toJSON());

  // Parity first: a refusal must come before anything is written.
  let parity: Record<string, unknown> | null = null;
  const parityModel = values.from ?? values['parity-model'];
  if (parityModel) {
    const bundle = parent ?? (await loadBundle(parityModel, { expectedShapes: weightShapes }));
    if (JSON.stringify(bundle.tokenizer) !== tokenizerJson)
      throw new Error(
        `${parityModel} was trained with another tokenizer: parity needs the same corpus, split and seed`,
      );
    if (bundle.config.maxTokens !== config.maxTokens)
      throw new Error(
        `${parityModel} takes ${bundle.config.maxTokens} tokens per example; the dataset has ${config.maxTokens}`,
      );
    const model = new TextVaeModel(bundle.config, bundle.weights);
    const part = valSample.slice(0, PARITY_EXAMPLES);
    const batch = makeBatch(
      part.map((e) => e.tokens),
      part.map((e) => e.bytes),
      bundle.config.maxTokens,
    );
    const figures = tf.tidy(() => {
      const o = objective(model, batch, elboOptions());
      return [o.reconNats, o.klNats, o.correct(), o.targetTokens].map((t) => t.dataSync()[0]);
    });
    model.dispose();
    parity = {
      model: parityModel,
      fingerprint: bundle.manifest.fingerprint,
      examples: part.length,
      recon_nats: figures[0],
      kl_nats: figures[1],
      correct: figures[2],
      target_tokens: figures[3],
      backend: backend.name,
    };
  }

  const meta = {
    format: DATASET_FORMAT,
    formatVersion: 1,
    config,
    seed,
    valFraction,
    splitMethod: split.method,
    heldOutFiles: split.heldOutFiles,
    sources: values.data,
    train: summary(train),
    val: { ...summary(valSample), of: val.length },
    parity,
    // The trainer starts from parity/ (the parent's weights) when this is set.
    from: parent
      ? {
          model: values.from,
          fingerprint: parent.manifest.fingerprint,
          // import-model.ts refreshes latent.step with the parent's factor.
          codeStepFactor: (parent.manifest.training as { codeStepFactor?: number } | undefined)?.codeStepFactor,
        }
      : null,
  };
  // One folder swap: a failed export never leaves new tokens beside an old dataset.json.
  await replaceDirAtomic(out, async (tmp) => {
    fs.writeFileSync(path.join(tmp, 'tokenizer.json'), tokenizerJson);
    fs.writeFileSync(path.join(tmp, 'train.tokens'), tokensFile(train, config.maxTokens));
    fs.writeFileSync(path.join(tmp, 'train.bytes'), bytesFile(train));
    fs.writeFileSync(path.join(tmp, 'val.tokens'), tokensFile(valSample, config.maxTokens));
    fs.writeFileSync(path.join(tmp, 'val.bytes'), bytesFile(valSample));
    if (parityModel) {
      fs.mkdirSync(path.join(tmp, 'parity'));
      for (const f of ['weights.json', 'weights.bin', 'config.json'])
        fs.copyFileSync(path.join(parityModel, f), path.join(tmp, 'parity', f));
    }
    fs.writeFileSync(path.join(tmp, 'dataset.json'), JSON.stringify(meta, null, 2) + '\n');
  });
  process.stderr.write(`${train.length} training and ${valSample.length} validation examples written to ${out}\n`);
  if (parity) process.stderr.write(`parity: ${JSON.stringify(parity)}\n`);
}

main().catch((err) => {
  process.stderr.write(`export-dataset: ${(err as Error).message}\n`);
  process.exit(1);
});
