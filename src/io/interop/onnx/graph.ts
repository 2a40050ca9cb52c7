/** A small builder for ONNX graphs: named initializers, nodes, typed inputs and outputs, then bytes. */
import { ConfigError, Tensor } from '../../../tensor/index.js';
import {
  ATTR_FLOAT, ATTR_INT, ATTR_INTS, ATTR_STRING, ATTR_STRINGS, ONNX_FLOAT, ONNX_INT64, encodeModel,
  type AttributeObj, type NodeObj, type TensorObj, type ValueInfoObj,
} from './proto.js';

export type AttrValue =
  | { int: number }
  | { float: number }
  | { string: string }
  | { ints: readonly number[] }
  | { strings: readonly string[] };

/** A dimension: a fixed size or a symbolic name (dynamic). */
export type Dim = number | string;

const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s);

export class OnnxGraph {
  private readonly nodes: NodeObj[] = [];
  private readonly initializers: TensorObj[] = [];
  private readonly inputs: ValueInfoObj[] = [];
  private readonly outputs: ValueInfoObj[] = [];
  private readonly names = new Set<string>();
  private counter = 0;

  /** A name not used yet, derived from `base`. */
  fresh(base: string): string {
    let name = base;
    while (this.names.has(name)) name = `${base}_${++this.counter}`;
    this.names.add(name);
    return name;
  }

  /** A float32 constant (weights). */
  floats(base: string, t: Tensor | { shape: readonly number[]; data: ArrayLike<number> }): string {
    const data = Float32Array.from(t.data);
    const raw = new Uint8Array(data.length * 4);
    const view = new DataView(raw.buffer);
    data.forEach((v, i) => view.setFloat32(i * 4, v, true));
    const name = this.fresh(base);
    this.initializers.push({ name, dims: [...t.shape], dataType: ONNX_FLOAT, rawData: raw });
    return name;
  }

  /** An int64 constant (shapes, indices). */
  int64s(base: string, values: readonly number[]): string {
    const raw = new Uint8Array(values.length * 8);
    const view = new DataView(raw.buffer);
    values.forEach((v, i) => view.setBigInt64(i * 8, BigInt(v), true));
    const name = this.fresh(base);
    this.initializers.push({ name, dims: [values.length], dataType: ONNX_INT64, rawData: raw });
    return name;
  }

  /** Adds a node; `outputs` are base names (made unique) or '' for an omitted optional output. Returns the output names. */
  node(opType: string, inputs: readonly string[], outputs: readonly string[], attributes: Record<string, AttrValue> = {}): string[] {
    const outs = outputs.map((o) => (o === '' ? '' : this.fresh(o)));
    const attribute = Object.entries(attributes).map(([name, v]) => attributeOf(name, v));
    this.nodes.push({ opType, name: this.fresh(`${opType}_node`), input: [...inputs], output: outs, attribute });
    return outs;
  }

  input(name: string, elem: 'float' | 'int64', dims: readonly Dim[]): string {
    if (this.names.has(name)) throw new ConfigError(`OnnxGraph: duplicate name ${name}`);
    this.names.add(name);
    this.inputs.push(valueInfo(name, elem, dims));
    return name;
  }

  /** Declares `value` (an existing name) as a graph output called `name` (an Identity node renames it). */
  output(name: string, value: string, elem: 'float' | 'int64', dims: readonly Dim[]): void {
    if (this.names.has(name)) throw new ConfigError(`OnnxGraph: duplicate name ${name}`);
    this.names.add(name);
    this.nodes.push({ opType: 'Identity', name: this.fresh('Identity_node'), input: [value], output: [name], attribute: [] });
    this.outputs.push(valueInfo(name, elem, dims));
  }

  /** The serialised ModelProto. */
  encode(info: { graphName: string; producerVersion: string; opset: number; docString?: string; metadata?: Record<string, string> }): Uint8Array {
    return encodeModel({
      irVersion: 8,
      producerName: 'bptt',
      producerVersion: info.producerVersion,
      opset: [{ domain: '', version: info.opset }],
      docString: info.docString ?? '',
      graph: { name: info.graphName, node: this.nodes, initializer: this.initializers, input: this.inputs, output: this.outputs },
      metadata: Object.entries(info.metadata ?? {}).map(([key, value]) => ({ key, value })),
    });
  }
}

function valueInfo(name: string, elem: 'float' | 'int64', dims: readonly Dim[]): ValueInfoObj {
  return { name, elemType: elem === 'float' ? ONNX_FLOAT : ONNX_INT64, dims: dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) };
}

function attributeOf(name: string, v: AttrValue): AttributeObj {
  if ('int' in v) return { name, type: ATTR_INT, i: v.int };
  if ('float' in v) return { name, type: ATTR_FLOAT, f: v.float };
  if ('string' in v) return { name, type: ATTR_STRING, s: utf8(v.string) };
  if ('ints' in v) return { name, type: ATTR_INTS, ints: [...v.ints] };
  return { name, type: ATTR_STRINGS, strings: v.strings.map(utf8) };
}
