/**
 * Train/held-out split for workspace training. Files are split by a hash of their relative path
 * (as the CLI does), but a small workspace often gets no held-out file at 5%: then the files
 * that hash lowest are held out (at least one, never all), and a single document is split by
 * paragraphs. So "held-out bits per byte" is measured on text the model did not train on
 * whenever there are at least two files or two paragraphs.
 */
import { isHeldOut } from './dataset';
import { stableHash } from './random';

export interface SplitResult {
  train: string[];
  val: string[];
  /** How the held-out part was chosen. */
  method: 'files' | 'lowest-hash-files' | 'paragraphs' | 'none';
  heldOutFiles: number;
}

const score = (key: string) => (stableHash(key) % 10000) / 10000;

export function splitForTraining(
  files: readonly { relativePath: string; text: string }[],
  valFraction: number,
): SplitResult {
  if (files.length === 0 || valFraction <= 0)
    return { train: files.map((f) => f.text), val: [], method: 'none', heldOutFiles: 0 };
  const val = files.filter((f) => isHeldOut(f.relativePath, valFraction));
  if (val.length > 0 && val.length < files.length) {
    return {
      train: files.filter((f) => !isHeldOut(f.relativePath, valFraction)).map((f) => f.text),
      val: val.map((f) => f.text),
      method: 'files',
      heldOutFiles: val.length,
    };
  }
  if (files.length >= 2) {
    const ranked = [...files].sort(
      (a, b) => score(a.relativePath) - score(b.relativePath) || (a.relativePath < b.relativePath ? -1 : 1),
    );
    const k = Math.min(files.length - 1, Math.max(1, Math.round(files.length * valFraction)));
    return {
      train: ranked.slice(k).map((f) => f.text),
      val: ranked.slice(0, k).map((f) => f.text),
      method: 'lowest-hash-files',
      heldOutFiles: k,
    };
  }
  // One document: hold out some of its paragraphs.
  const paragraphs = files[0].text.split(/(?<=\n[ \t]*\n)(?=[^\n])/).filter((p) => p.trim() !== '');
  if (paragraphs.length < 2) return { train: [files[0].text], val: [], method: 'none', heldOutFiles: 0 };
  let held = paragraphs.map((_, i) => score(`paragraph:${i}`) < valFraction);
  if (!held.includes(true) || !held.includes(false)) {
    const ranked = paragraphs.map((_, i) => i).sort((a, b) => score(`paragraph:${a}`) - score(`paragraph:${b}`));
    const k = Math.min(paragraphs.length - 1, Math.max(1, Math.round(paragraphs.length * valFraction)));
    const chosen = new Set(ranked.slice(0, k));
    held = paragraphs.map((_, i) => chosen.has(i));
  }
  return {
    train: [paragraphs.filter((_, i) => !held[i]).join('')],
    val: [paragraphs.filter((_, i) => held[i]).join('')],
    method: 'paragraphs',
    heldOutFiles: 0,
  };
}
