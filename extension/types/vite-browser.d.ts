// Browser code never touches Vite: WXT's own types import it only for its build config.
// Resolving "vite" here to nothing keeps Vite's `/// <reference types="node" />` (and so
// Buffer, process and every other Node global) out of the browser typecheck.
export {};
