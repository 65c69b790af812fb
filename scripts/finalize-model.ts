/**
 * Adds the provenance files to a trained bundle: its training log, the held-out eval output,
 * the commands that made it, and a REPORT.md of examples. Weights are untouched, so the
 * fingerprint stays the same.
 *
 *   node --import tsx scripts/finalize-model.ts --model models/default --log train-log.jsonl \
 *     --eval eval.json --train-command "..." --eval-command "..." --data .corpora/python-docs \
 *     [--append SECTION.md]
 *
 * --append: a hand-written section (measured tables, say) kept at the end of REPORT.md, so that
 * re-running this script does not lose it and the manifest's checksum always covers it.
 */
import * as fs from 'node:fs';
import { parseArgs } from 'node:util';
import { initBackend } from '../src/core/backend';
import { TextVae } from '../src/core/textVae';
import { loadBundle, readOptionalFiles, saveBundle } from '../src/core/bundle';
import { weightShapes } from '../src/core/model';
import { collectCorpus } from '../src/core/corpus';
import { splitForTraining } from '../src/core/split';
import { wordF1 } from '../src/core/similarity';
import { proseSentences } from './prose-sentences';
import { SETTINGS } from '../src/protocol/settings';

/** What "Reconstruct from Code" uses unless the user changed the settings. */
const EXTENSION_DECODING = {
  beamWidth: SETTINGS['decoding.beamWidth'].default,
  rerank: SETTINGS['decoding.rerank'].default,
};

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      model: { type: 'string' },
      log: { type: 'string' },
      eval: { type: 'string' },
      'train-command': { type: 'string' },
      'eval-command': { type: 'string' },
      data: { type: 'string' },
      // How the model was trained and on what, when it is not the GPU route on the Python docs.
      about: { type: 'string' },
      append: { type: 'string' },
    },
  });
  const dir = values.model!;
  const backend = await initBackend('auto');
  const vae = await TextVae.load(dir);
  const evalJson = JSON.parse(fs.readFileSync(values.eval!, 'utf8')) as Record<string, number | string>;

  // Held-out sentences: short lines of prose from the validation files only.
  const { files } = await collectCorpus([values.data!]);
  const heldSplit = splitForTraining(files, 0.05);
  const prose = proseSentences(heldSplit.val);
  const sentences = prose.slice(0, 8);
  // How much of each sentence comes back: word-level F1 of the greedy reconstruction (first line).
  const proseCodes: Float32Array[] = [];
  for (const s of prose) proseCodes.push((await vae.encode(s))[0]);
  const proseOut = await vae.decode(proseCodes, { strategy: 'greedy' });
  const f1s = prose.map((s, i) => wordF1(s, proseOut[i].split('\n')[0]));
  const meanF1 = f1s.reduce((a, b) => a + b, 0) / Math.max(1, f1s.length);
  const md: string[] = [];
  const fp = vae.fingerprint.slice(0, 8);
  md.push(`# The default TextVAE model (${fp})`, '');
  const training = (vae.manifest?.training ?? {}) as {
    trainer?: string;
    device?: string;
    step?: number;
    elapsedSeconds?: number;
  };
  const trainer = training.trainer
    ? `Trained on an ${training.device} by \`${training.trainer}\` (the PyTorch mirror of the engine's model, checked against it before and after training; ${training.step} steps in ${Math.round((training.elapsedSeconds ?? 0) / 60)} min) from a dataset that \`scripts/gpu/export-dataset.ts\` cut and tokenised with the engine's own code`
    : 'Trained by `textvae train`';
  const about =
    values.about ??
    `${trainer}, on the Python 3.11 documentation sources (.corpora/python-docs, made by scripts/corpus/build.ts from Debian's python3.11-doc), ${heldSplit.heldOutFiles} files held out by a hash of their path (val fraction 0.05).`;
  md.push(
    `${about} Examples below are generated on the **${backend.name}** backend by \`scripts/finalize-model.ts\`.`,
    '',
  );
  md.push('## Held-out figures', '', '| metric | value |', '| --- | --- |');
  for (const k of [
    'bytes',
    'bits_per_byte',
    'recon_bits_per_byte',
    'kl_bits_per_byte',
    'kl_nats',
    'active_units',
    'mutual_information',
    'token_accuracy',
    // With the document cache (eval --cache): earlier text of the same file mixed into the decoder.
    'cache_bits_per_byte',
    'cache_recon_bits_per_byte',
    // KL against the fitted prior.json (the density samples come from) instead of N(0, I).
    'fitted_bits_per_byte',
    'fitted_kl_bits_per_byte',
    'fitted_cache_bits_per_byte',
    'backend',
  ]) {
    const v = evalJson[k];
    if (v === undefined) continue;
    md.push(`| ${k} | ${typeof v === 'number' ? +v.toFixed(4) : v} |`);
  }
  const enc = vae.config.encoderDilations ? ` (dilations ${vae.config.encoderDilations.join(', ')})` : '';
  md.push(
    '',
    `Model: ${vae.config.variant}, width ${vae.config.modelDim}, latent ${vae.config.latentDim}, ${vae.config.encoderLayers} encoder layers${enc}${vae.config.encoderPositions ? ' with positions' : ''}, ${vae.config.decoderDilations.length} decoder layers (dilations ${vae.config.decoderDilations.join(', ')}), ${vae.config.maxTokens} tokens per code, ${vae.tokenizer.vocabSize}-token byte-level BPE.`,
    '',
  );
  md.push('## Reconstructions of held-out sentences', '');
  md.push(
    `Over all ${prose.length} one-line prose sentences of the held-out Python files (30–90 characters, no markup), greedy reconstruction from the posterior mean keeps a mean word-level F1 of **${meanF1.toFixed(3)}**; ${f1s.filter((f) => f >= 0.5).length} sentences reach 0.5 and ${prose.filter((s, i) => proseOut[i].trim() === s).length} come back exactly. The first eight, encoded to a latent code and decoded as the extension does by default (beam ${EXTENSION_DECODING.beamWidth}, reranked by re-encoding at ${EXTENSION_DECODING.rerank}):`,
    '',
  );
  for (const s of sentences) {
    const codes = await vae.encodeToCodes(s);
    const back = await vae.decodeCodes(codes, { strategy: 'beam', ...EXTENSION_DECODING });
    md.push(`- original: ${s}`, `  - code: \`${codes.join(' ')}\``, `  - decoded: ${back.replace(/\n/g, ' ')}`);
  }
  const source = vae.prior ? 'the fitted latent prior (prior.json)' : 'N(0, I)';
  md.push('', '## Samples', '', `Codes drawn from ${source}, as the extension samples them.`, '');
  for (const t of [0.6, 0.8, 1.0]) {
    md.push(`Temperature ${t}, top-p 0.95, seed 11:`, '');
    for (const s of await vae.sample(3, { temperature: t, topP: 0.95, seed: 11 }))
      md.push('```text', s.trimEnd(), '```');
    md.push('');
  }
  md.push('Paragraphs of three consecutive codes, temperature 0.8, top-p 0.95, seed 11:', '');
  for (const s of await vae.sample(2, { temperature: 0.8, topP: 0.95, seed: 11, chunks: 3 }))
    md.push('```text', s.trimEnd(), '```');
  md.push('');
  if (sentences.length >= 2) {
    md.push('## Interpolation (spherical, 5 steps)', '');
    for (const p of await vae.interpolate(sentences[0], sentences[1], 5, 'spherical', {
      strategy: 'beam',
      beamWidth: 4,
    }))
      md.push(`- ${p.alpha.toFixed(2)}: ${p.text.replace(/\n/g, ' ')}`);
  }
  md.push('');
  if (values.append) md.push(fs.readFileSync(values.append, 'utf8').trim(), '');
  const command = [
    '# How this model was made',
    '',
    'From the repository root, on the machine described in docs/benchmarks.md:',
    '',
    '```sh',
    values['train-command']!,
    values['eval-command']!,
    '```',
    '',
  ].join('\n');
  const bundle = await loadBundle(dir, { expectedShapes: weightShapes });
  const res = await saveBundle(dir, {
    config: bundle.config,
    tokenizer: bundle.tokenizer,
    weights: bundle.weights,
    weightsDtype: bundle.weightsDtype,
    training: bundle.manifest.training,
    metrics: evalJson,
    extras: {
      ...(await readOptionalFiles(bundle)), // prior.json stays
      'REPORT.md': md.join('\n'),
      'train-log.jsonl': fs.readFileSync(values.log!, 'utf8'),
      'eval.json': JSON.stringify(evalJson, null, 2) + '\n',
      'COMMAND.md': command,
    },
  });
  if (res.fingerprint !== vae.fingerprint) throw new Error('fingerprint changed while adding provenance files');
  process.stdout.write(`finalized ${dir} (${fp})\n`);
}

main().catch((err) => {
  process.stderr.write(`finalize-model: ${err instanceof Error ? err.message : err}\n`);
  process.exit(1);
});
