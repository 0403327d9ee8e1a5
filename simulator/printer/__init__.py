"""The parts of a virtual printer, one concern each; `simulator.engine.VirtualPrinter` joins them.

`profiles` says how each model is played (the capabilities come from the library's model
table), `job` and `process` run print jobs, `thermals` heats and cools, `ams` holds the filament,
`status` writes it all into the `push_status` object, `reports` turns that into full reports or
deltas, `versions` answers `get_version` and `commands` the control requests.
"""
