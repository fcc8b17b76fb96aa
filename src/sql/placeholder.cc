// sql layer: see src/README.md
