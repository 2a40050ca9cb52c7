import { Tensor, allocate, type Arr, type DType } from '../tensor/index.js';

/**
 * One recorded operation: the variables it read, the ones it produced, and the
 * closure that sends the outputs' gradients back to its inputs (always `+=`).
 */
export class Node {
  constructor(
    readonly name: string,
    readonly inputs: readonly Variable[],
    readonly outputs: readonly Variable[],
    readonly backward: () => void,
  ) {}
}

/** A tensor on the tape: a value, a gradient that accumulates, and the node that made it. */
export class Variable {
  value: Tensor;
  grad: Tensor | null = null;
  requiresGrad: boolean;
  creator: Node | null = null;
  name: string;
  /**
   * When set (same size as the value), gradData() zero-fills and uses this
   * array instead of allocating a new one: a DataParallel worker's gradients
   * then land straight in the shared buffer the main thread reduces.
   */
  gradHome: Arr | null = null;

  constructor(value: Tensor, requiresGrad = false, name = '') {
    this.value = value;
    this.requiresGrad = requiresGrad;
    this.name = name;
  }

  get shape(): readonly number[] {
    return this.value.shape;
  }

  get data(): Arr {
    return this.value.data;
  }

  get dtype(): DType {
    return this.value.dtype;
  }

  /** The gradient buffer, allocated as zeros on first use, for ops to add into. */
  gradData(): Arr {
    if (!this.grad) this.grad = new Tensor(this.value.shape, this.gradHome ? this.gradHome.fill(0) : allocate(this.value.dtype, this.value.size));
    return this.grad.data;
  }

  zeroGrad(): void {
    this.grad = null;
  }

  /** The same value, cut from the tape: gradients stop here (truncation). */
  detach(): Variable {
    return new Variable(this.value, false, this.name);
  }

  /** Back-propagates from this scalar (or from `seed`, shaped like this). */
  backward(seed?: Tensor): void {
    backward(this, seed);
  }

  /** The single value of a one-element variable. */
  item(): number {
    return this.value.data[0]!;
  }
}

let gradEnabled = true;

/** Runs `fn` without recording: for inference and for the optimiser. */
export function noGrad<T>(fn: () => T): T {
  const before = gradEnabled;
  gradEnabled = false;
  try {
    return fn();
  } finally {
    gradEnabled = before;
  }
}

export function isGradEnabled(): boolean {
  return gradEnabled;
}

/**
 * Records an op whose outputs are already computed. If no input needs a
 * gradient (or recording is off) nothing is recorded and the outputs are plain.
 */
export function record(name: string, inputs: readonly Variable[], outputs: readonly Variable[], backwardFn: () => void): void {
  if (!gradEnabled || !inputs.some((v) => v.requiresGrad)) return;
  const node = new Node(name, inputs, outputs, backwardFn);
  for (const out of outputs) {
    out.requiresGrad = true;
    out.creator = node;
  }
}

/** Reverse-mode sweep over every node that `root` depends on, in reverse topological order. */
export function backward(root: Variable, seed?: Tensor): void {
  if (seed) root.gradData().set(seed.data);
  else root.gradData().fill(1);
  for (const node of topologicalOrder(root).reverse()) node.backward();
}

function topologicalOrder(root: Variable): Node[] {
  const order: Node[] = [];
  const seen = new Set<Node>();
  // Iterative post-order DFS: deep unrolled graphs would overflow the call stack.
  const stack: Array<{ node: Node; next: number }> = [];
  if (root.creator) {
    stack.push({ node: root.creator, next: 0 });
    seen.add(root.creator);
  }
  while (stack.length > 0) {
    const top = stack[stack.length - 1]!;
    const inputs = top.node.inputs;
    if (top.next < inputs.length) {
      const child = inputs[top.next++]!.creator;
      if (child && !seen.has(child)) {
        seen.add(child);
        stack.push({ node: child, next: 0 });
      }
    } else {
      order.push(top.node);
      stack.pop();
    }
  }
  return order;
}

/** A new variable holding `value`, for op outputs. */
export function output(value: Tensor, name = ''): Variable {
  return new Variable(value, false, name);
}
