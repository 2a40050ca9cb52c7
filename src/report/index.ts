/** Training reports (browser-safe): the recorder and the HTML renderer. The Node writer is in `./node/write.js`. */
export {
  ReportRecorder, type ReportData, type ReportOptions, type Chart, type Series, type FlowHeatmap, type AttentionExample,
  type FinalResult, type ModelSample,
} from './recorder.js';
export { FlowSampler, SATURATION_LOW, SATURATION_HIGH, type FlowSamplerOptions, type FlowReport } from './flow.js';
export { renderReport } from './render.js';
export { escapeHtml, lineChartSvg } from './svg.js';
export { reportCallback, type RunUnits } from './callbacks.js';
