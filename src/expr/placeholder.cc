// expr layer: see src/README.md
