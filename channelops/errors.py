"""Exceptions that stop a run, each with a message an operator can act on."""

from pydantic import ValidationError


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


class DeliveryIncomplete(ChannelopsError):
    """Some messages were not accepted by the SMTP server; the outbox keeps them."""


def describe_validation_error(error: ValidationError) -> str:
    """Pydantic's errors as 'key.path: reason', one per problem."""
    problems = []
    for problem in error.errors():
        location = ".".join(str(part) for part in problem["loc"])
        reason = problem["msg"].removeprefix("Value error, ")
        problems.append(f"{location}: {reason}" if location else reason)
    return "; ".join(problems)
