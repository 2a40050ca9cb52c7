/** PyTorch, Keras and ONNX interoperability (browser-safe: bytes and tensors in, bytes and tensors out). */
export {
  StateDictError, loadTorchStateDict, loadTorchSafetensors, torchStateDict, encodeTorchSafetensors,
  type ShapeMismatch, type LoadStateDictOptions, type LoadReport,
} from './state-dict.js';
export {
  kerasToTorch, kerasDenseToTorch, groupKerasWeights,
  type KerasCell, type KerasCellWeights, type KerasLayerWeights, type KerasConversionOptions, type KerasConversion,
} from './keras.js';
export { exportOnnx, recurrentCellKind, ONNX_OPSET, type OnnxSequenceModel, type OnnxExportOptions, type RecurrentCellKind } from './onnx/export.js';
