"""A virtual Bambu Lab printer farm for tests, the demo and users without a printer.

`engine.VirtualPrinter` models a printer without I/O; `device.SimulatedPrinter` puts one on
the network (its own Mosquitto broker with TLS and the access-code login); `farm.PrinterFarm`
runs several; `python -m simulator` starts a farm from the command line.
"""
