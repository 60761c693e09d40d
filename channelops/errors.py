"""Exceptions that stop a run, each with a message an operator can act on."""


class ChannelopsError(Exception):
    """Base for errors channelops raises on purpose."""


class ConfigError(ChannelopsError):
    """A configuration file is missing or invalid; the message names file and key."""


class InputError(ChannelopsError):
    """An input file cannot be read at all (not a row-level problem)."""


class GateBlocked(ChannelopsError):
    """The data-quality gate blocked publication."""


class WarehouseBusy(ChannelopsError):
    """Another run holds the warehouse."""
