export { calendarCycles, calendarNames, calendarFeatures, CYCLES, type Cycle } from './calendar.js';
export { ScaledSeries, fitScaler, lagOf, type Scaler, type Difference } from './scaling.js';
export { splitRows, windowOrigins, checkOrigins, type Split, type Origins } from './split.js';
export { prepareForecast, type ForecastSpec, type Prepared } from './prepare.js';
export { makeBatch, type ForecastBatch } from './windows.js';
export { forecastLoss, pinball, validateLoss, type LossKind, type LossSpec } from './losses.js';
export {
  Forecaster, validateForecasterConfig, type ForecasterConfig, type ForecastMode, type ForecastState,
} from './model.js';
export { seasonalNaive, fitLinearAr, linearArForecast, leastSquares, type LinearAr } from './baselines.js';
export { accuracy, seasonalScale, coverage, type Accuracy } from './metrics.js';
export { modelForecasts, actuals, scoreboard, validation, type Forecasts, type Scoreboard } from './evaluate.js';
export { ForecastBatches } from './batches.js';
export {
  forecastCodec, forecasterParameterCount, checkForecastExtra, type ForecastExtra, type ForecastDataMeta,
} from './codec.js';
export { forecastAfterEnd, type FutureForecast } from './predict.js';
