// storage layer: see src/README.md
