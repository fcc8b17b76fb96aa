// exec layer: see src/README.md
