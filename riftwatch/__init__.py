"""riftwatch: the command line, the wiring of the pipeline, demo and service, and the
bring-your-own-data tools (``riftwatch.byod``) that sit on top of every other layer."""
