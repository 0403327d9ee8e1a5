"""Bambu Lab printer protocol library.

Talks to printers over MQTT (LAN or cloud), their camera and the Bambu cloud. It never imports
Home Assistant, so it can be tested alone and published as its own package later.
"""
