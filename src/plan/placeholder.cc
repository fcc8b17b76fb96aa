// plan layer: see src/README.md
