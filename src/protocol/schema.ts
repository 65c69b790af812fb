/**
 * The building blocks of every schema that checks data crossing a boundary (engine requests,
 * webview messages, persisted webview state), with valibot. Each field states its rule once, and
 * an issue reads as one short sentence: "codes[1] must be a string", "n must be at most 256".
 * No vscode, no tfjs: the host, the worker, the webviews and the CLI all import it.
 */
import * as v from 'valibot';
import type { NumberRange } from '../core/choices';

/** A string of at most `max` characters (and, with `nonEmpty`, at least one). */
export function text(max: number, options: { nonEmpty?: boolean } = {}) {
  return v.pipe(
    v.string('must be a string'),
    v.check((s) => !options.nonEmpty || s.length > 0, 'must not be empty'),
    v.maxLength(max, (issue) => `is too long (${issue.input.length} characters; at most ${max})`),
  );
}

/** A finite number inside one of the ranges of core/choices.ts. */
export function numberIn(range: NumberRange) {
  return v.pipe(
    v.number('must be a finite number'),
    v.finite('must be a finite number'),
    v.check((x) => !range.integer || Number.isInteger(x), 'must be an integer'),
    v.minValue(range.min, `must be at least ${range.min}`),
    v.maxValue(range.max, `must be at most ${range.max}`),
  );
}

export const finiteNumber = v.pipe(v.number('must be a finite number'), v.finite('must be a finite number'));

/** A whole number from 0 up (offsets, line numbers, steps). */
export const count = v.pipe(
  v.number('must be a finite number'),
  v.safeInteger('must be an integer'),
  v.minValue(0, 'must be at least 0'),
);

// valibot's number() refuses NaN: metrics hold NaN on purpose (no value yet).
const numberOrNull = v.custom<number | null>((x) => typeof x === 'number' || x === null, 'must be a number or null');

/** JSON turns NaN and Infinity into null: such a number reads back as NaN. */
export const jsonNumber = v.pipe(
  numberOrNull,
  v.transform((x): number => x ?? NaN),
);

/** A finite number, or null where the value was not finite. */
export const finiteOrNull = v.pipe(
  numberOrNull,
  v.transform((x): number | null => (x !== null && Number.isFinite(x) ? x : null)),
);

export function oneOf<const T extends readonly [string, ...string[]]>(choices: T) {
  return v.picklist(choices, `must be one of ${choices.join(', ')}`);
}

export const flag = v.boolean('must be true or false');

/** A list of at most `max` items (and at least `min`). */
export function listOf<S extends v.GenericSchema>(item: S, max: number, options: { min?: number; what?: string } = {}) {
  const min = options.min ?? 0;
  return v.pipe(
    v.array(item, `must be ${options.what ?? 'an array'}`),
    v.minLength(min, `must have at least ${min} item${min === 1 ? '' : 's'}`),
    v.maxLength(max, (issue) => `has too many items (${issue.input.length}; at most ${max})`),
  );
}

/** An object with exactly these keys; unknown keys are dropped, and so are keys set to undefined. */
export function record<E extends v.ObjectEntries>(entries: E) {
  return v.pipe(
    // valibot's object() takes arrays too.
    v.custom<object>((x) => typeof x === 'object' && x !== null && !Array.isArray(x), 'must be an object'),
    v.object(entries, 'must be an object'),
    v.transform((o) => Object.fromEntries(Object.entries(o).filter(([, x]) => x !== undefined)) as typeof o),
  );
}

/** The params of a message without fields. */
export const empty = record({});

/** One sentence for the first issue, named by its path: "documents[2].uri must not be empty". */
export function describeIssue(issue: v.BaseIssue<unknown>, root = 'params'): string {
  let where = '';
  for (const item of issue.path ?? []) {
    const key = item.key;
    where += typeof key === 'number' ? `[${key}]` : where === '' ? String(key) : `.${String(key)}`;
  }
  // A missing key is reported by its object: say what is missing, not what the object should be.
  if (where !== '' && issue.type === 'object' && issue.received === 'undefined') return `${where} is required`;
  // A check of the whole object words its own sentence.
  if (where === '' && issue.kind === 'validation') return issue.message;
  return `${where || root} ${issue.message}`;
}

/** true when A and B have the same keys and each is assignable to the other: a schema describes a declared type. */
export type SameShape<A, B> = [keyof A, A] extends [keyof B, B]
  ? [keyof B, B] extends [keyof A, A]
    ? true
    : false
  : false;

/** The parsed value, or null when it does not fit (webviews ignore what they cannot use). */
export function parseOrNull<S extends v.GenericSchema>(schema: S, value: unknown): v.InferOutput<S> | null {
  const r = v.safeParse(schema, value);
  return r.success ? r.output : null;
}

/** The parsed value; throws `makeError(sentence)` for the first issue. */
export function parseOrThrow<S extends v.GenericSchema>(
  schema: S,
  value: unknown,
  makeError: (message: string) => Error,
  root?: string,
): v.InferOutput<S> {
  const r = v.safeParse(schema, value, { abortEarly: true });
  if (r.success) return r.output;
  throw makeError(describeIssue(r.issues[0], root));
}
