// delta layer: see src/README.md
