/**
 * A model bptt has no task for, trained with `fit`: a GRU reads 12 symbols, two of which are markers
 * A (2) and B (3), and says whether B came first (chance: 50 %).   npm run example:classify
 */
import { Adam, Embedding, GRU, Linear, Module, Rng, crossEntropy, fit, noGrad, reshape } from '../src/index.js';

const T = 12; // steps per sequence
type Batch = { x: number[]; y: number[]; n: number }; // inputs time-major [T, n], labels [n]
const batchOf = (rng: Rng, n: number): Batch => {
  const x = Array.from({ length: T * n }, () => rng.int(2)); // noise
  const y = Array.from({ length: n }, (_, b) => {
    const [a, z] = [rng.int(T), rng.int(T - 1)]; // A at a, B at z or z + 1: never the same step
    [x[a * n + b], x[(z >= a ? z + 1 : z) * n + b]] = [2, 3];
    return Number(z < a);
  });
  return { x, y, n };
};

class Classifier extends Module {
  emb = this.addModule('emb', new Embedding(4, 8, { rng: new Rng(1) }));
  gru = this.addModule('gru', new GRU({ inputSize: 8, hiddenSize: 24, rng: new Rng(2) }));
  fc = this.addModule('fc', new Linear(24, 2, { rng: new Rng(3) }));
  logits = (b: Batch) => this.fc.forward(reshape(this.gru.forward(this.emb.forward(b.x, [T, b.n])).state.h, [b.n, 24]));
  accuracy = (b: Batch) => noGrad(() => this.logits(b).value.data)
    .filter((z, i, all) => i % 2 === 1 && Number(z > all[i - 1]!) === b.y[(i - 1) / 2]).length / b.n;
}

export async function trainClassifier(seed = 1, steps = 400): Promise<{ accuracy: number }> {
  const [rng, model] = [new Rng(seed), new Classifier()];
  const [data, dev, test] = [Array.from({ length: 64 }, () => batchOf(rng, 32)), batchOf(rng, 500), batchOf(rng, 999)];
  await fit({
    model, data, optimizer: new Adam(model.parameters(), { lr: 1e-2 }), budget: { steps }, clip: 1, seed,
    loss: (b: Batch) => crossEntropy(model.logits(b), b.y), validate: () => 1 - model.accuracy(dev), // kept: the best
  });
  return { accuracy: model.accuracy(test) };
}

if (process.argv[1]?.endsWith('classify.js')) console.log('test set, chance 0.5:', await trainClassifier());
