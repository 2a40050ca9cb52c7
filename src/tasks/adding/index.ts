export { AddingModel, type AddingCell } from './model.js';
