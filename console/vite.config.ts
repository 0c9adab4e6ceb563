import { defineConfig } from "vitest/config";

// Served under /console/ by the local gateway and by the console's CloudFront distribution.
export default defineConfig({
  base: "/console/",
  build: { outDir: "dist", emptyOutDir: true, sourcemap: false, chunkSizeWarningLimit: 400 },
  test: { include: ["tests/**/*.test.ts"], environment: "node" },
});
