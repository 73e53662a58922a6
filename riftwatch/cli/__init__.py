"""The `riftwatch` command line: ``main`` parses and dispatches, ``common`` holds what every
command module shares, and each other module registers one group of commands."""
