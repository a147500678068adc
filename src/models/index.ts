/** Embedding models: the base built from a Recipe, and the presets. */
export { EmbeddingModel, type EmbeddingModelOptions } from "./embedding-model.ts";
export { MfBpr, type MfBprOptions, mfBprRecipe } from "./mf-bpr.ts";
export { MfSoftmax, type MfSoftmaxOptions, mfSoftmaxRecipe } from "./mf-softmax.ts";
