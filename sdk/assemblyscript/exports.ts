// `export { tidemark_init, tidemark_analyze } from "tidemark-sdk/exports"` in
// a module's entry file makes these the module's ABI exports.
export { tidemark_init, tidemark_analyze, tidemark_state_save, tidemark_state_load } from "./assembly/exports";
