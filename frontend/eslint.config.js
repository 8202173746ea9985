import js from "@eslint/js";
import reactHooks from "eslint-plugin-react-hooks";
import globals from "globals";
import tseslint from "typescript-eslint";

export default tseslint.config(
  { ignores: ["dist", "node_modules", "src/api/schema.d.ts", "test-results", "playwright-report"] },
  {
    files: ["**/*.{ts,tsx}"],
    extends: [js.configs.recommended, ...tseslint.configs.strictTypeChecked],
    languageOptions: {
      ecmaVersion: 2022,
      globals: { ...globals.browser },
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    plugins: { "react-hooks": reactHooks },
    rules: {
      ...reactHooks.configs.recommended.rules,
      "@typescript-eslint/restrict-template-expressions": ["error", { allowNumber: true }],
      "@typescript-eslint/no-confusing-void-expression": "off",
    },
  },
  {
    files: ["**/*.test.ts", "**/*.test.tsx", "e2e/**/*.ts"],
    rules: { "@typescript-eslint/no-non-null-assertion": "off" },
  },
  {
    files: ["e2e/**/*.ts", "playwright.config.ts", "vite.config.ts", "scripts/**", "bench/**"],
    languageOptions: { globals: { ...globals.node } },
  },
  { files: ["**/*.{js,mjs}"], extends: [js.configs.recommended], languageOptions: { globals: { ...globals.node } } },
  // The browser benchmark passes functions to the page: both worlds' globals.
  { files: ["bench/**/*.mjs"], languageOptions: { globals: { ...globals.node, ...globals.browser } } },
);
