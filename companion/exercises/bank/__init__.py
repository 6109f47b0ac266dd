"""The book's exercises, one module per chapter; every module here is imported by
:func:`companion.exercises.registry.discover`, so adding a file is all it takes to register its exercises."""
