import { ConfigError, expected, quoted } from './errors.js';

/** The element types a Tensor holds: float32 for training, float64 for gradient checks. */
export type DType = 'float32' | 'float64';

/** A dtype option, `fallback` when absent (undefined); without a fallback it is required. */
export function requireDType(where: string, v: unknown, fallback?: DType): DType {
  if (v === undefined && fallback !== undefined) return fallback;
  if (v === 'float32' || v === 'float64') return v;
  throw new ConfigError(expected(where, "dtype 'float32' or 'float64'", quoted(v)));
}
