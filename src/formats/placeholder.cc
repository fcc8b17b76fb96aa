// formats layer: see src/README.md
