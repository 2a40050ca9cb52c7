export * from './safetensors.js';
export * from './interop/index.js';
