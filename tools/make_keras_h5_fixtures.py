#!/usr/bin/env python3
"""Keras HDF5 weight files for `bptt import --from keras`, built by hand.

Usage (from the repository root; needs Debian's python3-h5py and numpy, no
TensorFlow or Keras):

    /usr/bin/python3 tools/make_keras_h5_fixtures.py [OUT_DIR]   (default: test/fixtures/keras-h5)

The files have the groups, attributes and dataset names Keras writes, with
seeded values (numpy's default_rng):

  lstm.h5               Keras 2 / tf.keras `model.save_weights('w.h5')`: root
                        attribute layer_names, one group per layer with
                        attribute weight_names (an InputLayer with none, an
                        LSTM 3 → 4 with kernel, recurrent_kernel, bias), float32
  gru2.h5               Keras 2 `model.save('m.h5')`: the same under a
                        model_weights group, beside model_config and
                        optimizer_weights; two stacked GRUs (reset_after=True,
                        bias (2, 3H)) 3 → 4 → 4 and a Dense, float64
  bilstm.weights.h5     Keras 3 `model.save_weights('w.weights.h5')`:
                        layers/bidirectional/{forward,backward}_layer/cell/vars/0,1,2
                        (kernel, recurrent_kernel, bias) and a Dense
                        (layers/dense/vars/0,1), the empty vars groups Keras
                        makes for every saveable, and an optimizer/vars group
                        with an int64 iteration count, float32
  simple_rnn.weights.h5 Keras 3: two stacked SimpleRNNs (layers/simple_rnn,
                        layers/simple_rnn_1), float32
  dense.weights.h5      Keras 3: an Embedding and a Dense, no recurrent layer
                        (the importer refuses it)
  float16.weights.h5    Keras 3: a SimpleRNN in float16 (refused: float32 or
                        float64 only)

and beside each of the first four, <name>.safetensors: the recurrent layers' weights under the
names Keras gives them (w.name in Keras 2, w.path in Keras 3), the format the
importer read before it read HDF5, so the tests check both give the same
torch tensors. Safetensors are written by tools/safetensors_io.py (Debian has
no python3-safetensors). Deterministic: rerunning writes identical files.
"""
import json
import os
import sys

import h5py
import numpy as np

from safetensors_io import write_safetensors


def cell(rng, gates, inputs, hidden, bias_shape, dtype):
    """Keras's kernel [in, G·H], recurrent_kernel [H, G·H], bias."""
    g = gates * hidden
    r = lambda *shape: rng.uniform(-0.5, 0.5, size=shape).astype(dtype)
    return r(inputs, g), r(hidden, g), r(*bias_shape(g))


def names_attr(names):
    """As Keras's save_attributes_to_hdf5_group: a numpy array of byte strings (fixed length), or [] when empty."""
    return np.array([n.encode("utf8") for n in names]) if names else np.array([])


def keras2_weights(group, layers):
    """Keras 2's save_weights_to_hdf5_group: layers is [(layer name, [(weight name, array)])]."""
    group.attrs["layer_names"] = names_attr([n for n, _ in layers])
    group.attrs["backend"] = b"tensorflow"
    group.attrs["keras_version"] = b"2.15.0"
    for layer, weights in layers:
        g = group.create_group(layer)
        g.attrs["weight_names"] = names_attr([n for n, _ in weights])
        for name, a in weights:
            g.create_dataset(name, data=a)


def keras2_cell(layer, cell_name, arrays):
    return [(f"{layer}/{cell_name}/{v}:0", a) for v, a in zip(("kernel", "recurrent_kernel", "bias"), arrays)]


def keras3_vars(f, path, arrays):
    g = f.require_group(path).create_group("vars")
    for i, a in enumerate(arrays):
        g.create_dataset(str(i), data=a)


def lstm_h5(out):
    rng = np.random.default_rng(1)
    w = keras2_cell("lstm", "lstm_cell", cell(rng, 4, 3, 4, lambda g: (g,), np.float32))
    with h5py.File(os.path.join(out, "lstm.h5"), "w") as f:
        keras2_weights(f, [("input_1", []), ("lstm", w)])
    write_safetensors(os.path.join(out, "lstm.safetensors"), dict(w))


def gru2_h5(out):
    rng = np.random.default_rng(2)
    two = lambda g: (2, g)
    w0 = keras2_cell("gru", "gru_cell", cell(rng, 3, 3, 4, two, np.float64))
    w1 = keras2_cell("gru_1", "gru_cell_1", cell(rng, 3, 4, 4, two, np.float64))
    dense = [("dense/kernel:0", rng.uniform(-1, 1, (4, 2))), ("dense/bias:0", rng.uniform(-1, 1, (2,)))]
    with h5py.File(os.path.join(out, "gru2.h5"), "w") as f:
        f.attrs["backend"] = b"tensorflow"
        f.attrs["keras_version"] = b"2.15.0"
        f.attrs["model_config"] = json.dumps({"class_name": "Sequential", "config": {"name": "sequential", "layers": [
            {"class_name": "GRU", "config": {"name": "gru", "units": 4, "reset_after": True, "return_sequences": True}},
            {"class_name": "GRU", "config": {"name": "gru_1", "units": 4, "reset_after": True}},
            {"class_name": "Dense", "config": {"name": "dense", "units": 2}}]}}).encode()
        keras2_weights(f.create_group("model_weights"), [("gru", w0), ("gru_1", w1), ("dense", dense)])
        opt = f.create_group("optimizer_weights")
        opt.attrs["weight_names"] = names_attr(["Adam/iter:0"])
        opt.create_dataset("Adam/iter:0", data=np.int64(3))
    write_safetensors(os.path.join(out, "gru2.safetensors"), dict(w0 + w1))


def bilstm_weights_h5(out):
    rng = np.random.default_rng(3)
    one = lambda g: (g,)
    fwd, bwd = cell(rng, 4, 3, 4, one, np.float32), cell(rng, 4, 3, 4, one, np.float32)
    dense = (rng.uniform(-1, 1, (8, 2)).astype(np.float32), rng.uniform(-1, 1, (2,)).astype(np.float32))
    with h5py.File(os.path.join(out, "bilstm.weights.h5"), "w") as f:
        keras3_vars(f, "/", [])  # the model's own (none)
        keras3_vars(f, "layers/bidirectional", [])
        for side, arrays in (("forward_layer", fwd), ("backward_layer", bwd)):
            keras3_vars(f, f"layers/bidirectional/{side}", [])
            keras3_vars(f, f"layers/bidirectional/{side}/cell", arrays)
        keras3_vars(f, "layers/dense", dense)
        keras3_vars(f, "optimizer", [np.int64(3), np.float32(0.001)])
    names = lambda side, arrays: {f"bidirectional/{side}_lstm/lstm_cell/{v}": a for v, a in zip(("kernel", "recurrent_kernel", "bias"), arrays)}
    write_safetensors(os.path.join(out, "bilstm.safetensors"), {**names("forward", fwd), **names("backward", bwd)})


def simple_rnn_weights_h5(out):
    rng = np.random.default_rng(4)
    one = lambda g: (g,)
    layers = [("simple_rnn", cell(rng, 1, 3, 4, one, np.float32)), ("simple_rnn_1", cell(rng, 1, 4, 4, one, np.float32))]
    with h5py.File(os.path.join(out, "simple_rnn.weights.h5"), "w") as f:
        keras3_vars(f, "/", [])
        for layer, arrays in layers:
            keras3_vars(f, f"layers/{layer}", [])
            keras3_vars(f, f"layers/{layer}/cell", arrays)
    named = {f"{layer}/simple_rnn_cell/{v}": a for layer, arrays in layers for v, a in zip(("kernel", "recurrent_kernel", "bias"), arrays)}
    write_safetensors(os.path.join(out, "simple_rnn.safetensors"), named)


def dense_weights_h5(out):
    rng = np.random.default_rng(5)
    with h5py.File(os.path.join(out, "dense.weights.h5"), "w") as f:
        keras3_vars(f, "/", [])
        keras3_vars(f, "layers/embedding", [rng.uniform(-1, 1, (6, 3)).astype(np.float32)])
        keras3_vars(f, "layers/dense", [rng.uniform(-1, 1, (3, 2)).astype(np.float32), np.zeros(2, np.float32)])


def float16_weights_h5(out):
    rng = np.random.default_rng(6)
    with h5py.File(os.path.join(out, "float16.weights.h5"), "w") as f:
        keras3_vars(f, "layers/simple_rnn", [])
        keras3_vars(f, "layers/simple_rnn/cell", cell(rng, 1, 3, 4, lambda g: (g,), np.float16))


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join("test", "fixtures", "keras-h5")
    os.makedirs(out, exist_ok=True)
    for make in (lstm_h5, gru2_h5, bilstm_weights_h5, simple_rnn_weights_h5, dense_weights_h5, float16_weights_h5):
        make(out)


if __name__ == "__main__":
    main()
